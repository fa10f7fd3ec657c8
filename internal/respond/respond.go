package respond

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/scan/awskey"
	"github.com/keywarden/keywarden/internal/state"
)

// IAM is what respond asks of IAM (respondaws.IAM), with the responder's
// credentials — never the exposed key's. It reads and changes; the verdicts
// on what it read (Assess) are respond's.
type IAM interface {
	KeyOwner(ctx context.Context, keyID string) (KeyOwner, error)
	UserPolicies(ctx context.Context, user string) (UserPolicies, error)
	SetActive(ctx context.Context, user, keyID string, active bool) error
	PutRevokeSessions(ctx context.Context, user string, before time.Time) error
	DeleteRevokeSessions(ctx context.Context, user string) error
	AttachQuarantine(ctx context.Context, user string) error
	DetachQuarantine(ctx context.Context, user string) error
	DisableConsole(ctx context.Context, user string) (bool, error)
}

// EventSource gives the CloudTrail events a key made since a time, with
// the sources it read and those it could not.
type EventSource interface {
	Events(ctx context.Context, keyID string, since time.Time) (Read, error)
}

// Responder runs responses with one identity and one journal.
type Responder struct {
	IAM     IAM
	DB      *state.DB
	Events  EventSource // nil: no review
	Rotator Rotator     // makes the replacement key; needed for Request.ReplaceTo
	Out     io.Writer   // progress lines
	Now     func() time.Time
}

// Request is one response.
type Request struct {
	KeyID          string
	Since          time.Duration // review window
	Apply          bool          // make the changes; otherwise plan only
	Quarantine     bool
	DisableConsole bool
	// ReplaceTo, with Apply, are the targets (rotate's) a new key for the
	// owner is delivered to; the exposed key stays inactive ReplaceGrace.
	ReplaceTo []string
}

// Report is everything a response found and did: the JSON of --format json.
type Report struct {
	Incident  string    `json:"incident"` // the id 'respond undo' takes; empty for a plan
	KeyID     string    `json:"key_id"`
	AccountID string    `json:"account_id"`
	Owner     *KeyOwner `json:"owner,omitempty"`
	MintedBy  string    `json:"minted_by,omitempty"` // for a temporary key: the key that minted it
	Rights    *Rights   `json:"rights,omitempty"`
	Actions   []Action  `json:"actions"`
	Applied   bool      `json:"applied"`
	// Replacement is the new key --replace-to created and delivered.
	Replacement string        `json:"replacement_key_id,omitempty"`
	Review      *Review       `json:"review,omitempty"`
	Journal     []state.Entry `json:"journal"`
	Warnings    []string      `json:"warnings"`
	GeneratedAt time.Time     `json:"generated_at"`
	// Steps say, per step of the playbook, what it checked, applied or
	// could not do; Incomplete lists every source a step could not read.
	// A report with Incomplete never claims an absence: "no event" means
	// no event in what was read.
	Steps      []Step    `json:"steps"`
	Incomplete []gap.Gap `json:"incomplete"`
}

// Review is what the key did.
type Review struct {
	Since time.Time `json:"since"`
	// Read names the sources read (each --logs source, "LookupEvents in
	// REGION"); what could not be read is in the report's Incomplete.
	Read []string `json:"read"`
	// Incomplete is what the review could not read (also in the report's
	// Incomplete): its events are unknown, not absent.
	Incomplete []gap.Gap         `json:"incomplete"`
	Events     int               `json:"events"`
	Minted     []MintedKey       `json:"minted_keys"`
	Summary    Summary           `json:"summary"`
	Flags      []Flag            `json:"red_flags"`
	Created    []CreatedResource `json:"created"`
	Timeline   []TimelineEntry   `json:"timeline"`
}

// TimelineEntry is one moment of the incident.
type TimelineEntry struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// ErrNoOwner is returned when the key's user cannot be found.
var ErrNoOwner = errors.New("owner unknown")

// Contain contains keyID as respond --apply does and returns the incident:
// watch's --respond hook (watch.Contain), in watch and in a drill.
func (r *Responder) Contain(ctx context.Context, keyID string) (string, error) {
	rep, err := r.Run(ctx, Request{KeyID: keyID, Apply: true})
	if err != nil {
		return "", err
	}
	return rep.Incident, nil
}

// Run identifies, assesses, plans (and with Apply, makes) the containment,
// reviews, and with Apply and ReplaceTo replaces the key. Containment comes
// before the review: a live key is shut first, then studied. The report
// says per step what was done, and lists in Incomplete every source that
// could not be read; it is returned with the error of a step that failed.
func (r *Responder) Run(ctx context.Context, req Request) (*Report, error) {
	rep := &Report{KeyID: req.KeyID, Actions: []Action{}, Journal: []state.Entry{}, Warnings: []string{},
		GeneratedAt: r.Now().UTC(), Steps: []Step{}, Incomplete: []gap.Gap{}}
	if acct, ok := awskey.AccountID(req.KeyID); ok {
		rep.AccountID = acct
	}
	reviewed := false
	if strings.HasPrefix(req.KeyID, "ASIA") {
		// A temporary key has no IAM owner: the logs show what minted it.
		reviewed = true
		if err := r.reviewStep(ctx, req, rep); err != nil {
			return rep, err
		}
		if rep.MintedBy == "" {
			rep.unread(gap.Gap{Source: "the STS call that minted " + req.KeyID,
				Reason: "not in the events read: the key to contain is unknown; the temporary key's sessions end at their expiry"})
			rep.step("identify", StepIncomplete, "a temporary key: the key that minted it is not in the events read")
			rep.step("contain", StepSkipped, "the key to contain is unknown")
			return rep, nil
		}
		req.KeyID = rep.MintedBy
	}
	err := r.identify(ctx, req, rep)
	switch {
	case errors.Is(err, ErrNoSuchKey):
		// Deleted, or another account's: nothing to contain here, but
		// what it did is still worth reading.
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("key %s is not a key of this account (%s): nothing to contain here",
			req.KeyID, elsewhere(rep.AccountID)))
		rep.step("identify", StepDone, "not a key of this account (%s)", elsewhere(rep.AccountID))
		rep.step("contain", StepSkipped, "nothing to contain in this account")
		if !reviewed {
			return rep, r.reviewStep(ctx, req, rep)
		}
		return rep, nil
	case err != nil:
		rep.step("identify", StepFailed, "%v", err)
		rep.step("contain", StepSkipped, "not planned: the key's owner is unknown")
		return rep, err
	}
	if err := r.checkReplace(ctx, req, rep); err != nil {
		return rep, err
	}
	rep.Actions = r.plan(req, rep)
	if !req.Apply {
		rep.step("contain", StepPlanned, "%s planned, nothing changed: run again with --apply", english.Count(len(pending(rep.Actions)), "change"))
	} else if err := r.contain(ctx, req, rep); err != nil {
		return rep, err
	}
	if !reviewed {
		if err := r.reviewStep(ctx, req, rep); err != nil {
			return rep, err
		}
	}
	if len(req.ReplaceTo) > 0 {
		if !req.Apply {
			rep.step("replace", StepPlanned, "a new key for %s, delivered to %s, with --apply", rep.Owner.User, strings.Join(req.ReplaceTo, ", "))
			return rep, nil
		}
		return rep, r.replace(ctx, req, rep)
	}
	return rep, nil
}

// elsewhere says where a key IAM does not know may be: deleted, or in the
// account its id names, when that can be decoded.
func elsewhere(account string) string {
	if account == "" {
		return "deleted, or another account's"
	}
	return "deleted, or account " + account + "'s"
}

// identify finds the owner and assesses the owner's rights.
func (r *Responder) identify(ctx context.Context, req Request, rep *Report) error {
	owner, err := r.IAM.KeyOwner(ctx, req.KeyID)
	if err != nil {
		return fmt.Errorf("identify %s: %w", req.KeyID, err)
	}
	rep.Owner = &owner
	if rep.AccountID == "" {
		rep.AccountID = owner.Account
	}
	if owner.User == "" {
		return fmt.Errorf("identify %s: %w (a root user key: contain it from the root user's console)", req.KeyID, ErrNoOwner)
	}
	rep.step("identify", StepDone, "user %s of account %s; the key is %s", owner.User, orDash(rep.AccountID), owner.Status)
	policies, err := r.IAM.UserPolicies(ctx, owner.User)
	if err != nil {
		rep.unread(gap.Gap{Source: "the policies of user " + owner.User, Reason: oneLine(err.Error())})
		rep.step("assess", StepFailed, "the owner's rights are unknown: %v", err)
		return nil
	}
	rights, gaps := assess(policies)
	rep.Rights = &rights
	if len(gaps) > 0 {
		rep.unread(gaps...)
		rep.step("assess", StepIncomplete, "the rights found are a lower bound: %s not read", english.Count(len(gaps), "policy source"))
		return nil
	}
	rep.step("assess", StepDone, "%s", rightsSummary(rights))
	return nil
}

// rightsSummary is one line of what the assessment found.
func rightsSummary(r Rights) string {
	switch {
	case r.Admin:
		return "administrator"
	case len(r.Dangerous) > 0:
		return fmt.Sprintf("not administrator; %s", english.Count(len(r.Dangerous), "dangerous right"))
	}
	return "not administrator; no dangerous right"
}

// plan lists the containment: what a response should change.
func (r *Responder) plan(req Request, rep *Report) []Action {
	user := rep.Owner.User
	deact := Action{Kind: DeactivateKey, User: user, KeyID: req.KeyID}
	if rep.Owner.Status == "Inactive" {
		deact.Skipped = "the key is already inactive"
	}
	actions := []Action{deact, {Kind: RevokeSessions, User: user, Before: r.Now().UTC().Truncate(time.Second)}}
	if req.Quarantine {
		actions = append(actions, Action{Kind: Quarantine, User: user})
	}
	if req.DisableConsole {
		actions = append(actions, Action{Kind: DisableConsole, User: user})
	}
	return actions
}

// pending is the actions still to be made.
func pending(actions []Action) []Action {
	var out []Action
	for _, a := range actions {
		if a.Skipped == "" && !a.Applied {
			out = append(out, a)
		}
	}
	return out
}

// contain makes the planned changes, journaling each before it is made.
// A change that fails stops it: the report then holds what was made, what
// failed (maybe made: undo reverses it) and the journal.
func (r *Responder) contain(ctx context.Context, req Request, rep *Report) error {
	inc := &Incident{ID: state.NewID("inc"), KeyID: req.KeyID, Account: rep.AccountID, User: rep.Owner.User,
		StartedAt: r.Now().UTC(), Actions: rep.Actions}
	j := journal{r.DB}
	if err := j.save(ctx, inc, "planned", "containment planned for "+req.KeyID); err != nil {
		rep.step("contain", StepFailed, "nothing changed: %v", err)
		return err
	}
	rep.Incident = inc.ID
	err := r.applyAll(ctx, inc, j)
	rep.Actions = inc.Actions
	if _, entries, lerr := Load(ctx, r.DB, inc.ID); lerr == nil {
		rep.Journal = entries
	}
	if err != nil {
		rep.step("contain", StepFailed, "%s", containFailure(inc))
		return err
	}
	rep.Applied = true
	made := 0
	for _, a := range inc.Actions {
		if a.Applied {
			made++
		}
	}
	rep.step("contain", StepDone, "%s made, %d not needed; 'keywarden respond undo %s' reverses them",
		english.Count(made, "change"), len(inc.Actions)-made, inc.ID)
	return nil
}

// applyAll makes the incident's pending actions in order, journaling each
// as in doubt before it is made and as made after; a failure is journaled
// too, and stops it.
func (r *Responder) applyAll(ctx context.Context, inc *Incident, j journal) error {
	for i := range inc.Actions {
		a := &inc.Actions[i]
		if a.Skipped != "" || a.Applied {
			continue
		}
		a.InDoubt = true
		if err := j.save(ctx, inc, "applying", fmt.Sprintf("applying %s to %s", a.Kind, a.User)); err != nil {
			a.Error = err.Error()
			return err
		}
		skipped, err := r.apply(ctx, *a)
		if err != nil {
			a.Error = oneLine(err.Error())
			_ = j.save(ctx, inc, "failed", fmt.Sprintf("%s of %s failed (it may have been made: undo reverses it): %s", a.Kind, a.User, a.Error))
			return fmt.Errorf("contain %s (incident %s, undo with 'keywarden respond undo %s'): %w", a.Kind, inc.ID, inc.ID, err)
		}
		a.Applied, a.At, a.Skipped, a.InDoubt = skipped == "", r.Now().UTC(), skipped, false
		if err := j.save(ctx, inc, string(a.Kind), describe(*a)); err != nil {
			return err
		}
		r.say("%s", describe(*a))
	}
	return nil
}

// containFailure says what a failed containment made, what failed and
// what it did not try.
func containFailure(inc *Incident) string {
	var made, failed, untried []string
	for _, a := range inc.Actions {
		switch {
		case a.Applied:
			made = append(made, string(a.Kind))
		case a.Error != "":
			failed = append(failed, fmt.Sprintf("%s failed: %s", a.Kind, a.Error))
		case a.Skipped == "":
			untried = append(untried, string(a.Kind))
		}
	}
	parts := failed
	parts = append(parts, "made: "+orNone(made), "not tried: "+orNone(untried),
		fmt.Sprintf("'keywarden respond undo %s' reverses what was made", inc.ID))
	return strings.Join(parts, "; ")
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// apply makes one change; a non-empty result says it was not needed.
func (r *Responder) apply(ctx context.Context, a Action) (string, error) {
	switch a.Kind {
	case DeactivateKey:
		return "", r.IAM.SetActive(ctx, a.User, a.KeyID, false)
	case RevokeSessions:
		return "", r.IAM.PutRevokeSessions(ctx, a.User, a.Before)
	case Quarantine:
		return "", r.IAM.AttachQuarantine(ctx, a.User)
	case DisableConsole:
		had, err := r.IAM.DisableConsole(ctx, a.User)
		if err == nil && !had {
			return "the user has no console password", nil
		}
		return "", err
	}
	return "", fmt.Errorf("unknown action %q", a.Kind)
}

func describe(a Action) string {
	switch {
	case a.Skipped != "":
		return fmt.Sprintf("%s of %s: not needed (%s)", a.Kind, a.User, a.Skipped)
	case a.Kind == DeactivateKey:
		return fmt.Sprintf("deactivated key %s of %s", a.KeyID, a.User)
	case a.Kind == RevokeSessions:
		return fmt.Sprintf("denied every session of %s issued before %s", a.User, a.Before.UTC().Format(time.RFC3339))
	case a.Kind == Quarantine:
		return fmt.Sprintf("attached AWS's compromised-key quarantine policy to %s", a.User)
	case a.Kind == DisableConsole:
		return fmt.Sprintf("deleted the console password of %s", a.User)
	}
	return string(a.Kind)
}

func (r *Responder) say(format string, args ...any) {
	if r.Out != nil {
		fmt.Fprintf(r.Out, format+"\n", args...)
	}
}

// reviewStep reviews the key's events, when there is a source, and says
// what it read and what it could not.
func (r *Responder) reviewStep(ctx context.Context, req Request, rep *Report) error {
	if r.Events == nil {
		rep.step("review", StepSkipped, "no source (--no-lookup without --logs)")
		return nil
	}
	gaps, err := r.review(ctx, req, rep)
	if err != nil {
		rep.step("review", StepFailed, "%v", err)
		return fmt.Errorf("review: %w", err)
	}
	rv := rep.Review
	if len(gaps) > 0 {
		rep.unread(gaps...)
		rep.step("review", StepIncomplete, "%s in what was read (%s); not read: %s", english.Count(rv.Events, "event"), readList(rv.Read), gapList(gaps))
		return nil
	}
	rep.step("review", StepDone, "%s, read from %s", english.Count(rv.Events, "event"), readList(rv.Read))
	return nil
}

// review reads what the key did, follows the keys it minted, and builds
// the summary, red flags, created resources and timeline. It returns what
// it could not read.
func (r *Responder) review(ctx context.Context, req Request, rep *Report) ([]gap.Gap, error) {
	since := r.Now().Add(-req.Since)
	var all []cloudtrail.Event
	var read []string
	var gaps []gap.Gap
	seen := map[string]bool{}
	queue := []string{req.KeyID}
	for len(queue) > 0 {
		key := queue[0]
		queue = queue[1:]
		if seen[key] {
			continue
		}
		seen[key] = true
		rd, err := r.Events.Events(ctx, key, since)
		if err != nil {
			return nil, fmt.Errorf("events of %s: %w", key, err)
		}
		all = append(all, rd.Events...)
		for _, src := range rd.Sources {
			if !slices.Contains(read, src) {
				read = append(read, src)
			}
		}
		for _, g := range rd.Gaps {
			gaps = addGap(gaps, g)
		}
		for _, m := range Follow(key, rd.Events) {
			queue = append(queue, m.KeyID)
		}
	}
	// A source that failed for one of the keys was not read whole.
	read = slices.DeleteFunc(read, func(src string) bool {
		return slices.ContainsFunc(gaps, func(g gap.Gap) bool { return g.Source == src })
	})
	slices.SortStableFunc(all, func(a, b cloudtrail.Event) int { return a.EventTime.Compare(b.EventTime) })
	if gaps == nil {
		gaps = []gap.Gap{}
	}
	rv := &Review{Since: since.UTC(), Read: read, Incomplete: gaps, Events: len(all), Minted: Follow(req.KeyID, all), Summary: Summarize(all),
		Flags: RedFlags(all), Created: Created(all)}
	if rv.Read == nil {
		rv.Read = []string{}
	}
	rv.Timeline = timeline(rv)
	rep.Review = rv
	if parent, ok := MintedBy(req.KeyID, all); ok {
		rep.MintedBy = parent
	}
	return gaps, nil
}

// readList words the sources read for one line: the LookupEvents regions
// together ("LookupEvents in eu-west-1, us-east-1"), "nothing" when none.
func readList(read []string) string {
	const lookup = "LookupEvents in "
	var parts, regions []string
	for _, src := range read {
		if region, ok := strings.CutPrefix(src, lookup); ok {
			regions = append(regions, region)
			continue
		}
		parts = append(parts, src)
	}
	if len(regions) > 0 {
		parts = append(parts, lookup+strings.Join(regions, ", "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// timeline orders the notable moments: first and last use, red flags, and
// resources created.
func timeline(rv *Review) []TimelineEntry {
	var out []TimelineEntry
	if !rv.Summary.First.IsZero() {
		out = append(out, TimelineEntry{rv.Summary.First, "first event of the key in the window"})
	}
	for _, f := range rv.Flags {
		out = append(out, TimelineEntry{f.Event.At, fmt.Sprintf("red flag %s: %s (%s)", f.Rule, f.Title, f.Event.Name)})
	}
	for _, c := range rv.Created {
		out = append(out, TimelineEntry{c.At, fmt.Sprintf("created %s %s", c.Kind, c.ID)})
	}
	for _, m := range rv.Minted {
		out = append(out, TimelineEntry{m.At, fmt.Sprintf("minted temporary key %s (%s)", m.KeyID, m.By)})
	}
	if !rv.Summary.Last.IsZero() {
		out = append(out, TimelineEntry{rv.Summary.Last, "last event of the key in the window"})
	}
	slices.SortStableFunc(out, func(a, b TimelineEntry) int { return a.At.Compare(b.At) })
	return out
}
