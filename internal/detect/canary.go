package detect

import (
	"context"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// CanaryRule is the catalogue entry of the canary watch: any use of a
// registered canary key is an intrusion, whatever the call and its outcome.
var CanaryRule = Rule{ID: "KW-CT-CANARY", Severity: severity.Critical, Title: "canary access key used", Technique: "T1078.004",
	Description: "A call, allowed or denied, in any region and service, signed with a canary key or a session minted from it: the key was found where it was planted.",
	Remediation: "Find who read the placement (repository, wiki, laptop, backup); assume everything stored beside it is stolen."}

// CanaryWatch raises CanaryRule on every event of a canary: signed with
// its access key id, or made by its IAM user through a session the key
// minted (GetSessionToken: the user's identity with a temporary ASIA key;
// GetFederationToken: a federated session the user issued). Matching the
// user is scoped to the canary's account, so a user of the same name in
// another account does not fire. Each alert's event is recorded in Seen,
// for the unlogged-call check.
type CanaryWatch struct {
	Canaries *canary.Registry
	Seen     canary.Store // nil: not recorded
}

// Observe implements Detector.
func (w *CanaryWatch) Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error) {
	if w.Canaries.Len() == 0 {
		return nil, nil
	}
	c, how, ok := w.canaryOf(e)
	if !ok {
		return nil, nil
	}
	a := CanaryRule.Alert(e, "canary "+c.Name+", planted "+c.Where())
	a.Details["canary"] = c.Name
	a.Details["planted"] = c.Where()
	a.Details["canary_key"] = c.AccessKeyID
	a.Details["call"] = e.EventSource + ":" + e.EventName
	a.Details["matched"] = how
	if e.ErrorCode != "" {
		a.Details["error_code"] = e.ErrorCode
	}
	if w.Seen != nil {
		// A failure to record must not cost the alert: at worst the check
		// reports the same use again as unlogged.
		if err := canary.MarkSeen(ctx, w.Seen, c.AccessKeyID, canary.Seen{At: e.EventTime, Event: e.EventSource + ":" + e.EventName}); err != nil {
			a.Details["not_recorded"] = err.Error()
		}
	}
	return []Alert{a}, nil
}

// canaryOf finds the canary behind e and says how: "key" (its access key
// id), "session" (its user, through temporary credentials) or
// "federation" (a federated session it issued); "user" is another key of
// the canary's user, which should have none.
func (w *CanaryWatch) canaryOf(e *cloudtrail.Event) (canary.Canary, string, bool) {
	id := e.UserIdentity
	if c, ok := w.Canaries.ByKey(id.AccessKeyID); ok && (c.Account == "" || id.AccountID == "" || id.AccountID == c.Account) {
		return c, "key", true
	}
	if id.Type == "IAMUser" && id.UserName != "" {
		if c, ok := w.Canaries.ByUser(id.AccountID, id.UserName); ok {
			if strings.HasPrefix(id.AccessKeyID, "ASIA") {
				return c, "session", true
			}
			return c, "user", true // another key of the canary user
		}
	}
	if is := id.SessionContext.SessionIssuer; id.Type == "FederatedUser" && is.Type == "IAMUser" {
		if c, ok := w.Canaries.ByUser(is.AccountID, is.UserName); ok {
			return c, "federation", true
		}
	}
	return canary.Canary{}, "", false
}

// CanaryUnloggedRule is the unlogged-call channel's alert: a canary key's
// last-used date moved and watch saw no CloudTrail event of it, so it was
// used by a call CloudTrail does not log (the probe attackers use to test a
// key without setting off an alert).
var CanaryUnloggedRule = Rule{ID: "KW-CANARY-UNLOGGED", Severity: severity.Critical, Title: "canary access key used by a call CloudTrail did not log", Technique: "T1078.004",
	Description: "GetAccessKeyLastUsed of a canary key moved with no CloudTrail event of the key: an unlogged probe.",
	Remediation: CanaryRule.Remediation}

// UnloggedAlert is the alert of a canary whose check found an unlogged use.
func UnloggedAlert(r canary.CheckResult) Alert {
	r2 := CanaryUnloggedRule
	a := Alert{Rule: r2.ID, Severity: r2.Severity, Title: r2.Title, Technique: r2.Technique,
		EventTime: r.LastUsed, EventSource: r.Service, Region: r.Region, AccountID: r.Canary.Account,
		AccessKeyID: r.KeyID, Principal: r.Canary.ARN,
		Details: map[string]any{"canary": r.Name, "planted": r.Where, "canary_key": r.KeyID,
			"detail":      "canary " + r.Name + ", planted " + r.Where + ": last used " + r.LastUsed.UTC().Format(time.RFC3339) + lastUsedVia(r),
			"remediation": r2.Remediation}}
	if !r.Before.IsZero() {
		a.Details["previous_use"] = r.Before.UTC().Format(time.RFC3339)
	}
	return a
}

func lastUsedVia(r canary.CheckResult) string {
	switch {
	case r.Service != "" && r.Region != "":
		return " (" + r.Service + ", " + r.Region + ")"
	case r.Service != "":
		return " (" + r.Service + ")"
	}
	return ""
}
