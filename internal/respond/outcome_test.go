package respond_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/respond"
)

// Outcomes: a report states per step what was checked, what failed and
// what was applied, and never claims an absence it did not check.

// steps maps each step of rep to its status.
func steps(rep *respond.Report) map[string]respond.StepStatus {
	out := map[string]respond.StepStatus{}
	for _, s := range rep.Steps {
		out[s.Name] = s.Status
	}
	return out
}

// gappy is an EventSource that read part of what it was asked.
type gappy struct{ gaps []gap.Gap }

func (g gappy) Events(context.Context, string, time.Time) (respond.Read, error) {
	return respond.Read{Sources: []string{"LookupEvents in us-east-1"}, Gaps: g.gaps}, nil
}

func TestRunStoppedByAFailedChangeSaysWhatWasMade(t *testing.T) {
	f := newIncident(t)
	denied := errors.New("iam:PutUserPolicy: access denied")
	f.acct.Fail = func(action string) error {
		if action == "iam:PutUserPolicy" {
			return denied
		}
		return nil
	}
	rep, err := f.responder().Run(context.Background(), f.request())
	if !errors.Is(err, denied) {
		t.Fatalf("err = %v, want the denial", err)
	}
	if rep.Incident == "" || rep.Applied {
		t.Fatalf("incident %q, applied %v: want an incident, not fully applied", rep.Incident, rep.Applied)
	}
	a := rep.Actions
	if !a[0].Applied || a[1].Applied || !a[1].InDoubt || !strings.Contains(a[1].Error, "access denied") || a[2].Applied || a[2].Error != "" {
		t.Errorf("actions %+v: want the key deactivated, the session deny failed (in doubt), the quarantine not tried", a)
	}
	if got := steps(rep); got["contain"] != respond.StepFailed || got["identify"] != respond.StepDone {
		t.Errorf("steps %v", rep.Steps)
	}
	if !journalHas(rep, "failed") {
		t.Errorf("the journal does not record the failure: %+v", rep.Journal)
	}
	md := respond.Markdown(rep)
	for _, bad := range []string{"nothing changed", "Containment (applied)"} {
		if strings.Contains(md, bad) {
			t.Errorf("the report says %q after a partly made containment:\n%s", bad, md)
		}
	}
	for _, want := range []string{"| deactivate-key | done ", "| revoke-sessions | failed (it may have been made: undo reverses it): ",
		"| quarantine | not tried |", "'keywarden respond undo " + rep.Incident + "'"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func journalHas(rep *respond.Report, step string) bool {
	for _, e := range rep.Journal {
		if e.Step == step {
			return true
		}
	}
	return false
}

func TestRunThatCannotIdentifyTheKeyClaimsNothing(t *testing.T) {
	f := newIncident(t)
	f.acct.Fail = func(action string) error {
		if action == "iam:GetAccessKeyLastUsed" {
			return errors.New("iam:GetAccessKeyLastUsed: access denied")
		}
		return nil
	}
	rep, err := f.responder().Run(context.Background(), f.request())
	if err == nil {
		t.Fatal("want the identify error")
	}
	if got := steps(rep); got["identify"] != respond.StepFailed || got["contain"] != respond.StepSkipped {
		t.Errorf("steps %v", rep.Steps)
	}
	md := respond.Markdown(rep)
	if strings.Contains(md, "Nothing to contain") || !strings.Contains(md, "Not planned: the key's owner is unknown.") {
		t.Errorf("the report must not say there is nothing to contain when the owner is unknown:\n%s", md)
	}
}

func TestRunWithAnIncompleteReviewDoesNotClaimTheKeyIdle(t *testing.T) {
	f := newIncident(t)
	r := f.responder()
	g := gap.Gap{Source: "LookupEvents in eu-west-1", Reason: "AccessDeniedException"}
	r.Events = gappy{gaps: []gap.Gap{g}}
	rep, err := r.Run(context.Background(), respond.Request{KeyID: f.key.ID, Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Incomplete, []gap.Gap{g}) || !slices.Equal(rep.Review.Incomplete, []gap.Gap{g}) ||
		!slices.Contains(rep.Warnings, "not read: LookupEvents in eu-west-1: AccessDeniedException") {
		t.Errorf("incomplete %v, review's %v, warnings %v", rep.Incomplete, rep.Review.Incomplete, rep.Warnings)
	}
	if got := steps(rep); got["review"] != respond.StepIncomplete || got["contain"] != respond.StepPlanned {
		t.Errorf("steps %v", rep.Steps)
	}
	md := respond.Markdown(rep)
	if strings.Contains(md, "No event of the key in the window") ||
		!strings.Contains(md, "The review is incomplete: not read: LookupEvents in eu-west-1 (AccessDeniedException).") ||
		!strings.Contains(md, "Read: LookupEvents in us-east-1.") {
		t.Errorf("the review must name what it read and what it could not, and claim no absence:\n%s", md)
	}
}

func TestRunOfAKeyWithNoDecodableAccountNamesNoAccount(t *testing.T) {
	f := newIncident(t)
	rep, err := f.responder().Run(context.Background(), respond.Request{KeyID: "AKIAIOSFODNN7EXAMPLE"})
	if err != nil {
		t.Fatal(err)
	}
	want := "key AKIAIOSFODNN7EXAMPLE is not a key of this account (deleted, or another account's): nothing to contain here"
	if !slices.Contains(rep.Warnings, want) {
		t.Errorf("warnings %q, want %q", rep.Warnings, want)
	}
	if md := respond.Markdown(rep); strings.Contains(md, "account -'s") || !strings.Contains(md, "Nothing to contain in this account.") {
		t.Errorf("report:\n%s", md)
	}
}

func TestRunOfATemporaryKeyWhoseParentIsUnknownIsIncomplete(t *testing.T) {
	f := newIncident(t)
	r := f.responder()
	r.Events = gappy{}
	rep, err := r.Run(context.Background(), respond.Request{KeyID: "ASIAQAAAAAAAAAAAAAAA", Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Incomplete) != 1 || !strings.Contains(rep.Incomplete[0].Source, "the STS call that minted") {
		t.Errorf("incomplete %v: want the minting call named as not read", rep.Incomplete)
	}
	if got := steps(rep); got["identify"] != respond.StepIncomplete || got["contain"] != respond.StepSkipped {
		t.Errorf("steps %v", rep.Steps)
	}
	if md := respond.Markdown(rep); strings.Contains(md, "Nothing to contain") {
		t.Errorf("report:\n%s", md)
	}
}
