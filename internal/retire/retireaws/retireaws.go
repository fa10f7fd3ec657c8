// Package retireaws is retire's IAM adapter: it reads, creates, tags and
// removes the OIDC identity providers, roles, role inline policies and
// instance profiles that replace a retired access key, and asks STS which
// account signs. The retired key's own calls (last use, deactivate,
// delete) are rotate's (rotateaws.IAM).
package retireaws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/retire"
)

// IAM makes retire's calls, signed with the credentials of the aws.Config
// it was built from.
type IAM struct {
	cfg aws.Config
}

var _ retire.IAM = (*IAM)(nil)

// New uses cfg's credentials, endpoints and retry policy.
func New(cfg aws.Config) *IAM { return &IAM{cfg: awsx.ForIAM(cfg)} }

func (a *IAM) client() *iam.Client { return awsx.IAM(a.cfg) }

// Account asks STS who signs.
func (a *IAM) Account(ctx context.Context) (string, error) { return awsx.Account(ctx, a.cfg) }
