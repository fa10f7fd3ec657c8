// Package canaryaws is the canary engine's adapter to IAM: it reads each
// canary key's last use (GetAccessKeyLastUsed) for the unlogged-call check.
package canaryaws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
)

// LastUsed reads keys' last use with one IAM call a key.
type LastUsed struct{ c *iam.Client }

var _ canary.LastUsedReader = (*LastUsed)(nil)

// NewLastUsed is the reader over cfg's IAM client.
func NewLastUsed(cfg aws.Config) *LastUsed { return &LastUsed{c: awsx.IAM(cfg)} }

// LastUsed is GetAccessKeyLastUsed of keyID. IAM answers "N/A" for the
// service and region of a key never used; those become empty.
func (l *LastUsed) LastUsed(ctx context.Context, keyID string) (canary.LastUse, error) {
	out, err := l.c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if err != nil {
		return canary.LastUse{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", keyID, awsx.Plain(err))
	}
	u := out.AccessKeyLastUsed
	if u == nil {
		return canary.LastUse{}, nil
	}
	na := func(s *string) string {
		if v := aws.ToString(s); v != "N/A" {
			return v
		}
		return ""
	}
	return canary.LastUse{At: aws.ToTime(u.LastUsedDate), Service: na(u.ServiceName), Region: na(u.Region)}, nil
}
