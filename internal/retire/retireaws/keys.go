package retireaws

// retire plan's read: the account's access keys and their last use.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/retire"
)

var _ retire.Keys = (*KeyLister)(nil)

// KeyLister reads access keys with IAM's ListUsers, ListAccessKeys and
// GetAccessKeyLastUsed, and the account with STS.
type KeyLister struct {
	cfg aws.Config
	iam *iam.Client
}

// NewKeyLister reads with cfg's credentials.
func NewKeyLister(cfg aws.Config) *KeyLister {
	return &KeyLister{cfg: cfg, iam: awsx.IAM(cfg)}
}

// Account is the account cfg signs for.
func (l *KeyLister) Account(ctx context.Context) (string, error) {
	id, err := awsx.CallerIdentity(ctx, l.cfg)
	return id.Account, err
}

// Key is one key: its user from its last use, its status from the user's keys.
func (l *KeyLister) Key(ctx context.Context, id string) (retire.KeyInfo, error) {
	out, err := l.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	switch {
	case awsx.IsNoSuchEntity(err):
		return retire.KeyInfo{}, fmt.Errorf("access key %s: %w", id, retire.ErrNoSuchKey)
	case awsx.IsDenied(err):
		return retire.KeyInfo{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: access denied", id)
	case err != nil:
		return retire.KeyInfo{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", id, awsx.Plain(err))
	}
	user := aws.ToString(out.UserName)
	keys, err := l.UserKeys(ctx, user)
	if err != nil {
		return retire.KeyInfo{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return retire.KeyInfo{}, fmt.Errorf("access key %s: not among user %s's keys", id, user)
}

// UserKeys are user's keys with their last use and the user's tags.
func (l *KeyLister) UserKeys(ctx context.Context, user string) ([]retire.KeyInfo, error) {
	tags, err := l.tags(ctx, user)
	if err != nil {
		return nil, err
	}
	var keys []retire.KeyInfo
	p := iam.NewListAccessKeysPaginator(l.iam, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListAccessKeys %s: %w", user, awsx.Plain(err))
		}
		for _, m := range page.AccessKeyMetadata {
			k := retire.KeyInfo{ID: aws.ToString(m.AccessKeyId), User: user, Status: string(m.Status), LastUseKnown: true, Tags: tags}
			last, err := l.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: m.AccessKeyId})
			if err != nil {
				return nil, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", k.ID, awsx.Plain(err))
			}
			if u := last.AccessKeyLastUsed; u != nil {
				k.LastUsed = aws.ToTime(u.LastUsedDate)
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// AllKeys are every user's keys.
func (l *KeyLister) AllKeys(ctx context.Context) ([]retire.KeyInfo, error) {
	var keys []retire.KeyInfo
	p := iam.NewListUsersPaginator(l.iam, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListUsers: %w", awsx.Plain(err))
		}
		for _, u := range page.Users {
			ks, err := l.UserKeys(ctx, aws.ToString(u.UserName))
			if err != nil {
				return nil, err
			}
			keys = append(keys, ks...)
		}
	}
	return keys, nil
}

// tags are user's tags (ListUserTags).
func (l *KeyLister) tags(ctx context.Context, user string) (map[string]string, error) {
	tags := map[string]string{}
	p := iam.NewListUserTagsPaginator(l.iam, &iam.ListUserTagsInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListUserTags %s: %w", user, awsx.Plain(err))
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}
