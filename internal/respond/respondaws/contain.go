package respondaws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/respond"
)

// Containment changes for `keywarden respond`. Every method is idempotent:
// respond resumes after a crash by replaying its journal, so a change already
// made, or an undo of one never made, must succeed.

// SetActive activates or deactivates user's key; setting the status it
// already has is not an error.
func (a *IAM) SetActive(ctx context.Context, user, keyID string, active bool) error {
	status := iamtypes.StatusTypeInactive
	if active {
		status = iamtypes.StatusTypeActive
	}
	_, err := a.iam().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(user), AccessKeyId: aws.String(keyID), Status: status})
	if err != nil {
		return respondErr("iam:UpdateAccessKey", user, fmt.Errorf("key %s %s: %w", keyID, status, err))
	}
	return nil
}

// PutRevokeSessions puts respond.RevokeSessionsDocument(before) on user as
// the inline policy respond.RevokePolicyName, replacing an earlier one:
// every session minted from the user's keys before then (GetSessionToken,
// GetFederationToken, AssumeRole by the user) is denied everything.
func (a *IAM) PutRevokeSessions(ctx context.Context, user string, before time.Time) error {
	_, err := a.iam().PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(respond.RevokePolicyName),
		PolicyDocument: aws.String(respond.RevokeSessionsDocument(before)),
	})
	if err != nil {
		return respondErr("iam:PutUserPolicy", user, err)
	}
	return nil
}

// DeleteRevokeSessions removes the revocation policy; none is not an error.
func (a *IAM) DeleteRevokeSessions(ctx context.Context, user string) error {
	_, err := a.iam().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(respond.RevokePolicyName),
	})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return respondErr("iam:DeleteUserPolicy", user, err)
	}
	return nil
}

// RevokeSessionsPolicy reads the revocation policy back: its cutoff, and
// ok=false when user has none. A policy of that name that does not hold a
// Deny-all on aws:TokenIssueTime is an error, not a revocation.
func (a *IAM) RevokeSessionsPolicy(ctx context.Context, user string) (time.Time, bool, error) {
	out, err := a.iam().GetUserPolicy(ctx, &iam.GetUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(respond.RevokePolicyName),
	})
	if awsx.IsNoSuchEntity(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, respondErr("iam:GetUserPolicy", user, err)
	}
	before, err := respond.RevokeSessionsCutoff(aws.ToString(out.PolicyDocument))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("policy %s of user %s: %w", respond.RevokePolicyName, user, err)
	}
	return before, true, nil
}

// AttachQuarantine attaches respond.QuarantinePolicyARN to user (a no-op
// when it already is): it denies the actions attackers use first, including
// the owner's own UpdateAccessKey and LookupEvents, so the responder must be
// another principal.
func (a *IAM) AttachQuarantine(ctx context.Context, user string) error {
	_, err := a.iam().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{
		UserName: aws.String(user), PolicyArn: aws.String(respond.QuarantinePolicyARN),
	})
	if err != nil {
		return respondErr("iam:AttachUserPolicy", user, fmt.Errorf("policy %s: %w", respond.QuarantinePolicyARN, err))
	}
	return nil
}

// DetachQuarantine detaches respond.QuarantinePolicyARN; not attached is not
// an error.
func (a *IAM) DetachQuarantine(ctx context.Context, user string) error {
	_, err := a.iam().DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{
		UserName: aws.String(user), PolicyArn: aws.String(respond.QuarantinePolicyARN),
	})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return respondErr("iam:DetachUserPolicy", user, fmt.Errorf("policy %s: %w", respond.QuarantinePolicyARN, err))
	}
	return nil
}

// DisableConsole deletes user's login profile (console password); had is
// false when there was none. It cannot be undone: the password is gone, and
// a new one must be set by an administrator.
func (a *IAM) DisableConsole(ctx context.Context, user string) (bool, error) {
	_, err := a.iam().DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(user)})
	if awsx.IsNoSuchEntity(err) {
		return false, nil
	}
	if err != nil {
		return false, respondErr("iam:DeleteLoginProfile", user, err)
	}
	return true, nil
}
