package canaryaws

// The unlogged-call check's read: each canary key's last use.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
)

var _ canary.LastUsedReader = (*IAM)(nil)

// LastUsed is GetAccessKeyLastUsed of keyID. IAM answers "N/A" for the
// service and region of a key never used; those become empty.
func (a *IAM) LastUsed(ctx context.Context, keyID string) (canary.LastUse, error) {
	out, err := a.client().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
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
