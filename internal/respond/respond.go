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

// EventSource gives the CloudTrail events a key made since a time.
type EventSource interface {
	Events(ctx context.Context, keyID string, since time.Time) ([]cloudtrail.Event, error)
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
}

// Review is what the key did.
type Review struct {
	Since    time.Time         `json:"since"`
	Events   int               `json:"events"`
	Minted   []MintedKey       `json:"minted_keys"`
	Summary  Summary           `json:"summary"`
	Flags    []Flag            `json:"red_flags"`
	Created  []CreatedResource `json:"created"`
	Timeline []TimelineEntry   `json:"timeline"`
}

// TimelineEntry is one moment of the incident.
type TimelineEntry struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// ErrNoOwner is returned when the key's user cannot be found.
var ErrNoOwner = errors.New("owner unknown")

// Run identifies, assesses, plans (and with Apply, makes) the containment,
// reviews, and with Apply and ReplaceTo replaces the key. Containment comes
// before the review: a live key is shut first, then studied.
func (r *Responder) Run(ctx context.Context, req Request) (*Report, error) {
	rep := &Report{KeyID: req.KeyID, Actions: []Action{}, Journal: []state.Entry{}, Warnings: []string{}, GeneratedAt: r.Now().UTC()}
	if acct, ok := awskey.AccountID(req.KeyID); ok {
		rep.AccountID = acct
	}
	var events []cloudtrail.Event
	if strings.HasPrefix(req.KeyID, "ASIA") {
		// A temporary key has no IAM owner: the logs show what minted it.
		var err error
		if events, err = r.review(ctx, req, rep); err != nil {
			return rep, err
		}
		if rep.MintedBy == "" {
			rep.Warnings = append(rep.Warnings, "temporary key: the key that minted it is not in the events read; its sessions end at their expiry")
			return rep, nil
		}
		req.KeyID = rep.MintedBy
	}
	err := r.identify(ctx, req, rep)
	switch {
	case errors.Is(err, ErrNoSuchKey):
		// Deleted, or another account's: nothing to contain here, but
		// what it did is still worth reading.
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("key %s is not a key of this account (deleted, or account %s's): nothing to contain here",
			req.KeyID, orDash(rep.AccountID)))
		if events == nil && r.Events != nil {
			if _, err := r.review(ctx, req, rep); err != nil {
				rep.Warnings = append(rep.Warnings, "review: "+err.Error())
			}
		}
		return rep, nil
	case err != nil:
		return rep, err
	}
	rep.Actions = r.plan(req, rep)
	if req.Apply {
		if err := r.contain(ctx, req, rep); err != nil {
			return rep, err
		}
	}
	if events == nil && r.Events != nil {
		if _, err := r.review(ctx, req, rep); err != nil {
			rep.Warnings = append(rep.Warnings, "review: "+err.Error())
		}
	}
	if req.Apply && len(req.ReplaceTo) > 0 {
		return rep, r.replace(ctx, req, rep)
	}
	return rep, nil
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
	policies, err := r.IAM.UserPolicies(ctx, owner.User)
	if err != nil {
		rep.Warnings = append(rep.Warnings, "assess: "+err.Error())
		return nil
	}
	rights := Assess(policies)
	rep.Rights = &rights
	return nil
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

// contain makes the planned changes, journaling each before it is made.
func (r *Responder) contain(ctx context.Context, req Request, rep *Report) error {
	inc := &Incident{ID: state.NewID("inc"), KeyID: req.KeyID, Account: rep.AccountID, User: rep.Owner.User,
		StartedAt: r.Now().UTC(), Actions: rep.Actions}
	j := journal{r.DB}
	if err := j.save(ctx, inc, "planned", "containment planned for "+req.KeyID); err != nil {
		return err
	}
	rep.Incident = inc.ID
	for i := range inc.Actions {
		a := &inc.Actions[i]
		if a.Skipped != "" || a.Applied {
			continue
		}
		a.InDoubt = true
		if err := j.save(ctx, inc, "applying", fmt.Sprintf("applying %s to %s", a.Kind, a.User)); err != nil {
			return err
		}
		skipped, err := r.apply(ctx, *a)
		if err != nil {
			return fmt.Errorf("contain %s (incident %s, undo with 'keywarden respond undo %s'): %w", a.Kind, inc.ID, inc.ID, err)
		}
		a.Applied, a.At, a.Skipped, a.InDoubt = skipped == "", r.Now().UTC(), skipped, false
		if err := j.save(ctx, inc, string(a.Kind), describe(*a)); err != nil {
			return err
		}
		r.say("%s", describe(*a))
	}
	rep.Actions, rep.Applied = inc.Actions, true
	_, entries, err := Load(ctx, r.DB, inc.ID)
	if err == nil {
		rep.Journal = entries
	}
	return nil
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

// review reads what the key did, follows the keys it minted, and builds
// the summary, red flags, created resources and timeline.
func (r *Responder) review(ctx context.Context, req Request, rep *Report) ([]cloudtrail.Event, error) {
	if r.Events == nil {
		return nil, nil
	}
	since := r.Now().Add(-req.Since)
	var all []cloudtrail.Event
	seen := map[string]bool{}
	queue := []string{req.KeyID}
	for len(queue) > 0 {
		key := queue[0]
		queue = queue[1:]
		if seen[key] {
			continue
		}
		seen[key] = true
		evs, err := r.Events.Events(ctx, key, since)
		if err != nil {
			return nil, fmt.Errorf("events of %s: %w", key, err)
		}
		all = append(all, evs...)
		for _, m := range Follow(key, evs) {
			queue = append(queue, m.KeyID)
		}
	}
	slices.SortStableFunc(all, func(a, b cloudtrail.Event) int { return a.EventTime.Compare(b.EventTime) })
	rv := &Review{Since: since.UTC(), Events: len(all), Minted: Follow(req.KeyID, all), Summary: Summarize(all),
		Flags: RedFlags(all), Created: Created(all)}
	rv.Timeline = timeline(rv)
	rep.Review = rv
	if parent, ok := MintedBy(req.KeyID, all); ok {
		rep.MintedBy = parent
	}
	return all, nil
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
