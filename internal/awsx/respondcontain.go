package awsx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

// Containment changes for `keywarden respond`. Every method is idempotent:
// respond resumes after a crash by replaying its journal, so a change already
// made, or an undo of one never made, must succeed.

// RevokePolicyName is the inline user policy that revokes older sessions.
const RevokePolicyName = "KeywardenRevokeOlderSessions"

// QuarantinePolicyARN is the policy AWS attaches to the owner of a key it
// found exposed (version 3, current since 2024; moto 5 knows it).
const QuarantinePolicyARN = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"

// tokenIssueTime is the condition key AWSRevokeOlderSessions tests: set on
// requests signed with temporary credentials only, so the deny leaves the
// user's long-term keys (and a replacement key) working.
const tokenIssueTime = "aws:TokenIssueTime"

// revokeCutoff is before in UTC, rounded up to the second: the condition
// holds whole seconds, and rounding down would spare sessions minted in the
// second before the cutoff.
func revokeCutoff(before time.Time) time.Time {
	t := before.UTC()
	if t.Truncate(time.Second).Equal(t) {
		return t
	}
	return t.Truncate(time.Second).Add(time.Second)
}

// RevokeSessionsDocument is the policy PutRevokeSessions puts: deny every
// action on every resource to sessions issued before the cutoff (before,
// rounded up to the second). AWS console's "Revoke active sessions" puts the
// same statement (AWSRevokeOlderSessions) on roles.
func RevokeSessionsDocument(before time.Time) string {
	// A template, not json.Marshal: the only variable is an RFC 3339 time,
	// which needs no escaping.
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],`+
		`"Condition":{"DateLessThan":{"%s":"%s"}}}]}`, tokenIssueTime, revokeCutoff(before).Format(time.RFC3339))
}

// PutRevokeSessions puts RevokeSessionsDocument(before) on user as the inline
// policy RevokePolicyName, replacing an earlier one: every session minted
// from the user's keys before then (GetSessionToken, GetFederationToken,
// AssumeRole by the user) is denied everything.
func (a *KeyAdmin) PutRevokeSessions(ctx context.Context, user string, before time.Time) error {
	_, err := a.iam().PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(RevokePolicyName),
		PolicyDocument: aws.String(RevokeSessionsDocument(before)),
	})
	if err != nil {
		return respondErr("iam:PutUserPolicy", user, err)
	}
	return nil
}

// DeleteRevokeSessions removes the revocation policy; none is not an error.
func (a *KeyAdmin) DeleteRevokeSessions(ctx context.Context, user string) error {
	_, err := a.iam().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(RevokePolicyName),
	})
	if err != nil && !IsNoSuchEntity(err) {
		return respondErr("iam:DeleteUserPolicy", user, err)
	}
	return nil
}

// RevokeSessionsPolicy reads the revocation policy back: its cutoff, and
// ok=false when user has none. A policy of that name that does not hold a
// Deny-all on aws:TokenIssueTime is an error, not a revocation.
func (a *KeyAdmin) RevokeSessionsPolicy(ctx context.Context, user string) (time.Time, bool, error) {
	out, err := a.iam().GetUserPolicy(ctx, &iam.GetUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(RevokePolicyName),
	})
	if IsNoSuchEntity(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, respondErr("iam:GetUserPolicy", user, err)
	}
	before, err := revokeCutoffOf(aws.ToString(out.PolicyDocument))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("policy %s of user %s: %w", RevokePolicyName, user, err)
	}
	return before, true, nil
}

// errNotRevocation marks a document that is not a session revocation.
var errNotRevocation = errors.New("not a session revocation (a Deny of * on * with DateLessThan aws:TokenIssueTime)")

// revokeCutoffOf finds the cutoff in a revocation document, plain or
// percent-encoded as IAM returns it.
func revokeCutoffOf(doc string) (time.Time, error) {
	d, err := iampolicy.Parse(doc)
	if err != nil {
		return time.Time{}, err
	}
	for _, s := range d.Statements {
		if s.Effect != iampolicy.Deny || !universal(s.Action) || !universal(s.Resource) {
			continue
		}
		for key, vals := range s.Condition["DateLessThan"] {
			if !strings.EqualFold(key, tokenIssueTime) || len(vals) != 1 {
				continue
			}
			t, err := time.Parse(time.RFC3339, vals[0])
			if err != nil {
				return time.Time{}, fmt.Errorf("%s %q: %w", tokenIssueTime, vals[0], err)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, errNotRevocation
}

func universal(list []string) bool { return len(list) == 1 && list[0] == "*" }

// AttachQuarantine attaches QuarantinePolicyARN to user (a no-op when it
// already is): it denies the actions attackers use first, including the
// owner's own UpdateAccessKey and LookupEvents, so the responder must be
// another principal.
func (a *KeyAdmin) AttachQuarantine(ctx context.Context, user string) error {
	_, err := a.iam().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{
		UserName: aws.String(user), PolicyArn: aws.String(QuarantinePolicyARN),
	})
	if err != nil {
		return respondErr("iam:AttachUserPolicy", user, fmt.Errorf("policy %s: %w", QuarantinePolicyARN, err))
	}
	return nil
}

// DetachQuarantine detaches QuarantinePolicyARN; not attached is not an
// error.
func (a *KeyAdmin) DetachQuarantine(ctx context.Context, user string) error {
	_, err := a.iam().DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{
		UserName: aws.String(user), PolicyArn: aws.String(QuarantinePolicyARN),
	})
	if err != nil && !IsNoSuchEntity(err) {
		return respondErr("iam:DetachUserPolicy", user, fmt.Errorf("policy %s: %w", QuarantinePolicyARN, err))
	}
	return nil
}

// DisableConsole deletes user's login profile (console password); had is
// false when there was none. It cannot be undone: the password is gone, and
// a new one must be set by an administrator.
func (a *KeyAdmin) DisableConsole(ctx context.Context, user string) (bool, error) {
	_, err := a.iam().DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(user)})
	if IsNoSuchEntity(err) {
		return false, nil
	}
	if err != nil {
		return false, respondErr("iam:DeleteLoginProfile", user, err)
	}
	return true, nil
}
