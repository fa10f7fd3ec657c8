// Package respondaws is respond's AWS adapter: the IAM reads of the
// identify and assess steps, and the containment changes and their undo,
// made with the responder's credentials. It implements respond.IAM.
package respondaws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/respond"
)

// This file holds the reads of the identify step; policies.go the assess
// step and contain.go the changes.

// PolicyDoc is where the policy a responder needs is documented; denial
// errors point there.
const PolicyDoc = "docs/policies/respond.json"

// IAM makes respond's IAM calls with the credentials of the aws.Config it
// was built from.
type IAM struct {
	cfg aws.Config
}

var _ respond.IAM = (*IAM)(nil)

// New uses cfg's credentials, region, endpoints and retry policy.
func New(cfg aws.Config) *IAM {
	return &IAM{cfg: awsx.ForIAM(cfg)}
}

func (a *IAM) iam() *iam.Client { return awsx.IAM(a.cfg) }

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
		e.Action, target, e.Action, PolicyDoc, e.Err)
}

// Unwrap lets errors.Is(err, awsx.ErrAccessDenied) hold while keeping AWS's
// error reachable.
func (e *ActionDeniedError) Unwrap() []error { return []error{awsx.ErrAccessDenied, e.Err} }

// respondErr wraps a failed respond call with the action and the user, as an
// *ActionDeniedError when the caller lacked the permission, and without the
// SDK's layers where they add nothing (awsx.Plain): the report's steps
// quote it.
func respondErr(action, user string, err error) error {
	if awsx.IsDenied(err) {
		return &ActionDeniedError{Action: action, User: user, Err: err}
	}
	if user == "" {
		return awsx.Plain(fmt.Errorf("%s: %w", action, err))
	}
	return awsx.Plain(fmt.Errorf("%s user %s: %w", action, user, err))
}

// KeyOwner identifies keyID's owner and the key's status. A key IAM does not
// know wraps respond.ErrNoSuchKey. Three calls: sts:GetCallerIdentity (no
// permission needed), iam:GetAccessKeyLastUsed and iam:ListAccessKeys.
func (a *IAM) KeyOwner(ctx context.Context, keyID string) (respond.KeyOwner, error) {
	out, err := a.iam().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if awsx.IsNoSuchEntity(err) {
		return respond.KeyOwner{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", keyID, respond.ErrNoSuchKey)
	}
	if err != nil {
		return respond.KeyOwner{}, respondErr("iam:GetAccessKeyLastUsed", "", err) // respond names the key
	}
	o := respond.KeyOwner{User: aws.ToString(out.UserName)}
	if u := out.AccessKeyLastUsed; u != nil {
		o.LastUsed = aws.ToTime(u.LastUsedDate)
		o.LastUsedService = notApplicable(aws.ToString(u.ServiceName))
		o.LastUsedRegion = notApplicable(aws.ToString(u.Region))
	}
	if o.User == "" {
		return respond.KeyOwner{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: no user name in the answer", keyID)
	}
	if err := a.keyStatus(ctx, keyID, &o); err != nil {
		return respond.KeyOwner{}, err
	}
	caller, err := awsx.CallerIdentity(ctx, a.cfg)
	if err != nil {
		return respond.KeyOwner{}, awsx.Plain(fmt.Errorf("key %s: %w", keyID, err))
	}
	o.Account = caller.Account
	return o, nil
}

// keyStatus fills Status and Created from the owner's key list.
func (a *IAM) keyStatus(ctx context.Context, keyID string, o *respond.KeyOwner) error {
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
	return fmt.Errorf("iam:ListAccessKeys user %s: key %s not listed: %w", o.User, keyID, respond.ErrNoSuchKey)
}

// notApplicable maps IAM's "N/A" (never used) to "".
func notApplicable(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}
