package respond

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

// The policies containment puts on, and takes off, the key's owner.
const (
	// RevokePolicyName is the inline user policy that revokes older sessions.
	RevokePolicyName = "KeywardenRevokeOlderSessions"
	// QuarantinePolicyARN is the policy AWS attaches to the owner of a key it
	// found exposed (version 3, current since 2024; moto 5 knows it).
	QuarantinePolicyARN = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
)

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

// RevokeSessionsDocument is the policy RevokePolicyName holds: deny every
// action on every resource to sessions issued before the cutoff (before,
// rounded up to the second). AWS console's "Revoke active sessions" puts the
// same statement (AWSRevokeOlderSessions) on roles.
func RevokeSessionsDocument(before time.Time) string {
	// A template, not json.Marshal: the only variable is an RFC 3339 time,
	// which needs no escaping.
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],`+
		`"Condition":{"DateLessThan":{"%s":"%s"}}}]}`, tokenIssueTime, revokeCutoff(before).Format(time.RFC3339))
}

// errNotRevocation marks a document that is not a session revocation.
var errNotRevocation = errors.New("not a session revocation (a Deny of * on * with DateLessThan aws:TokenIssueTime)")

// RevokeSessionsCutoff finds the cutoff in a revocation document, plain or
// percent-encoded as IAM returns it. A document that does not hold a
// Deny-all on aws:TokenIssueTime is an error, not a revocation.
func RevokeSessionsCutoff(doc string) (time.Time, error) {
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
