package awsx

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// This file holds the reads of `keywarden respond`'s identify step;
// respondrights.go the assess step and respondcontain.go the changes.

// RespondPolicyDoc is where the policy a responder needs is documented;
// denial errors point there.
const RespondPolicyDoc = "docs/policies/respond.json"

// ActionDeniedError is IAM refusing one respond call for lack of
// permission. It names the action, so the caller can print what to add to
// the responder's policy.
type ActionDeniedError struct {
	Action string // e.g. "iam:UpdateAccessKey"
	User   string // the user acted on; empty for account-wide calls
	Err    error  // AWS's error
}

func (e *ActionDeniedError) Error() string {
	target := ""
	if e.User != "" {
		target = " on user " + e.User
	}
	return fmt.Sprintf("%s%s: access denied: the caller lacks %s (the responder policy is %s): %v",
		e.Action, target, e.Action, RespondPolicyDoc, e.Err)
}

// Unwrap lets errors.Is(err, ErrAccessDenied) hold while keeping AWS's error
// reachable.
func (e *ActionDeniedError) Unwrap() []error { return []error{ErrAccessDenied, e.Err} }

// respondErr wraps a failed respond call with the action and the user, as an
// *ActionDeniedError when the caller lacked the permission.
func respondErr(action, user string, err error) error {
	if IsDenied(err) {
		return &ActionDeniedError{Action: action, User: user, Err: err}
	}
	if user == "" {
		return fmt.Errorf("%s: %w", action, err)
	}
	return fmt.Errorf("%s user %s: %w", action, user, err)
}

// KeyOwner is who an access key belongs to, from GetAccessKeyLastUsed
// (which answers for any key of the account, with the caller's credentials)
// and ListAccessKeys.
type KeyOwner struct {
	User    string    `json:"user"`
	Account string    `json:"account_id"` // the caller's account, which GetAccessKeyLastUsed answered for
	Status  string    `json:"status"`     // "Active" or "Inactive"
	Created time.Time `json:"created"`
	// LastUsed is zero, and the service and region empty, when the key was
	// never used (AWS says "N/A").
	LastUsed        time.Time `json:"last_used,omitzero"`
	LastUsedService string    `json:"last_used_service,omitempty"`
	LastUsedRegion  string    `json:"last_used_region,omitempty"`
}

// KeyOwner identifies keyID's owner and the key's status. A key IAM does not
// know wraps ErrNoSuchKey. Three calls: sts:GetCallerIdentity (no permission
// needed), iam:GetAccessKeyLastUsed and iam:ListAccessKeys.
func (a *KeyAdmin) KeyOwner(ctx context.Context, keyID string) (KeyOwner, error) {
	out, err := a.iam().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if IsNoSuchEntity(err) {
		return KeyOwner{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", keyID, ErrNoSuchKey)
	}
	if err != nil {
		return KeyOwner{}, respondErr("iam:GetAccessKeyLastUsed", "", fmt.Errorf("key %s: %w", keyID, err))
	}
	o := KeyOwner{User: aws.ToString(out.UserName)}
	if u := out.AccessKeyLastUsed; u != nil {
		o.LastUsed = aws.ToTime(u.LastUsedDate)
		o.LastUsedService = notApplicable(aws.ToString(u.ServiceName))
		o.LastUsedRegion = notApplicable(aws.ToString(u.Region))
	}
	if o.User == "" {
		return KeyOwner{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: no user name in the answer", keyID)
	}
	if err := a.keyStatus(ctx, keyID, &o); err != nil {
		return KeyOwner{}, err
	}
	caller, err := a.Caller(ctx)
	if err != nil {
		return KeyOwner{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	o.Account = caller.Account
	return o, nil
}

// keyStatus fills Status and Created from the owner's key list.
func (a *KeyAdmin) keyStatus(ctx context.Context, keyID string, o *KeyOwner) error {
	pages := iam.NewListAccessKeysPaginator(a.iam(), &iam.ListAccessKeysInput{UserName: aws.String(o.User)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return respondErr("iam:ListAccessKeys", o.User, err)
		}
		for _, m := range page.AccessKeyMetadata {
			if aws.ToString(m.AccessKeyId) == keyID {
				o.Status = string(m.Status)
				o.Created = aws.ToTime(m.CreateDate)
				return nil
			}
		}
	}
	// Deleted between the two calls.
	return fmt.Errorf("iam:ListAccessKeys user %s: key %s not listed: %w", o.User, keyID, ErrNoSuchKey)
}

// notApplicable maps IAM's "N/A" (never used) to "".
func notApplicable(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}
