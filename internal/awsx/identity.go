package awsx

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keywarden/keywarden/internal/credential"
)

// Identity is who a configuration's credentials belong to.
type Identity struct {
	Account string
	ARN     string
	User    string // the IAM user name; empty for the root user and roles
	Root    bool
}

// Account asks STS which account signs: the adapters' check that a plan or
// a typed account id is the credentials' own.
func Account(ctx context.Context, cfg aws.Config) (string, error) {
	id, err := CallerIdentity(ctx, cfg)
	return id.Account, err
}

// CallerIdentity asks STS who signs (GetCallerIdentity needs no permission).
func CallerIdentity(ctx context.Context, cfg aws.Config) (Identity, error) {
	out, err := STS(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("sts get-caller-identity: %w", err)
	}
	return IdentityOf(aws.ToString(out.Account), aws.ToString(out.Arn)), nil
}

// IdentityOf reads an identity ARN: arn:aws:iam::ACCOUNT:user/PATH/NAME,
// arn:aws:iam::ACCOUNT:root, or a role session.
func IdentityOf(account, arn string) Identity {
	c := Identity{Account: account, ARN: arn}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return c
	}
	switch res := parts[5]; {
	case res == "root":
		c.Root = true
	case strings.HasPrefix(res, "user/"):
		c.User = res[strings.LastIndex(res, "/")+1:]
	}
	return c
}

// ForIAM is cfg for IAM and STS calls: they answer from any region, so one
// is set when cfg has none, and request logging is off, since it could echo
// signed headers.
func ForIAM(cfg aws.Config) aws.Config {
	cfg = cfg.Copy()
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.ClientLogMode = 0
	return cfg
}

// WithKey is ForIAM(cfg) signing with key alone, whatever credentials cfg
// held: rotation signs with the key it rotates, never with what the
// environment happens to hold.
func WithKey(cfg aws.Config, key credential.Key) aws.Config {
	cfg = ForIAM(cfg)
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		key.ID, key.Secret.Reveal(), key.SessionToken.Reveal()))
	return cfg
}
