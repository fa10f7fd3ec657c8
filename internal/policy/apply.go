package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/state"
)

// IAM is what diff, apply and undo ask of AWS about a principal (a user or a
// role). Removing what is not there, or attaching what is attached, is not
// an error: a resumed apply or undo meets what the killed run did.
type IAM interface {
	// Current reads the principal's policies exactly (see Current).
	Current(ctx context.Context, p Principal) (Current, error)
	// CreatePolicy creates the customer managed policy name under path
	// /keywarden/ with doc as its document and tags, and returns its ARN;
	// ErrPolicyExists (with the ARN) when the name is taken.
	CreatePolicy(ctx context.Context, name, doc string, tags map[string]string) (arn string, err error)
	// PolicyExists reports whether a customer managed policy of that name
	// exists under /keywarden/, and its ARN.
	PolicyExists(ctx context.Context, name string) (arn string, exists bool, err error)
	// DeletePolicy deletes a customer managed policy and its non-default versions.
	DeletePolicy(ctx context.Context, arn string) error
	Attach(ctx context.Context, p Principal, arn string) error
	Detach(ctx context.Context, p Principal, arn string) error
	PutInline(ctx context.Context, p Principal, name, doc string) error
	DeleteInline(ctx context.Context, p Principal, name string) error
	// SetDefaultVersion makes version the default of a customer managed
	// policy (nothing when it is).
	SetDefaultVersion(ctx context.Context, arn, version string) error
}

// MaxPolicySize is IAM's quota on a managed policy document, in characters
// without whitespace.
const MaxPolicySize = 6144

// ErrPolicyExists is wrapped by CreatePolicy when the name is taken.
var ErrPolicyExists = errors.New("the policy exists")

// ErrRefused is wrapped by Apply when a precondition fails, before any change.
var ErrRefused = errors.New("refused")

// KindApply is the state record kind of an apply.
const KindApply = "policy-apply"

// Steps an apply's record reaches. Each is journaled before the IAM calls it
// names, and every call is idempotent, so a killed run resumes at its step
// and an undo from any step puts the snapshot back.
const (
	StepCreating  = "creating"  // the keywarden policy may exist
	StepAttaching = "attaching" // it may be attached
	StepDetaching = "detaching" // the old managed policies may be detached
	StepRemoving  = "removing"  // the inline policies may be deleted
	StepApplied   = "applied"   // the principal holds only the keywarden policy (and its groups') (closed)
	StepUndoing   = "undoing"   // the snapshot is being put back
	StepUndone    = "undone"    // the principal holds its old policies again (closed)
)

// Applied is one apply as journaled: the snapshot taken before the first
// change, and the policy that replaced it. Nothing in it is secret.
type Applied struct {
	ID        string    `json:"-"`
	Step      string    `json:"-"`
	Principal Principal `json:"principal"`
	Before    Current   `json:"before"`
	Name      string    `json:"policy_name"`
	ARN       string    `json:"policy_arn,omitempty"` // set once created
	Document  string    `json:"policy_document"`
	At        time.Time `json:"applied_at"`
}

// Open reports whether the apply or its undo is unfinished.
func (a Applied) Open() bool { return a.Step != StepApplied && a.Step != StepUndone }

// Engine runs diff, apply and undo.
type Engine struct {
	IAM IAM
	DB  *state.DB
	Now func() time.Time
}

// ApplyOptions are an apply's inputs.
type ApplyOptions struct {
	// KeepDays: refuse a policy that denies an action the evidence shows
	// used within this many days of now.
	KeepDays int
}

// Apply swaps the principal's own policies for the suggested one. It
// refuses (ErrRefused), before any change, a suggestion whose policy denies
// an action used in the last KeepDays, one made on policies that changed
// since (when the suggestion carries a fingerprint), and a principal with an
// unfinished apply (which it resumes instead when it is the same one).
func (e *Engine) Apply(ctx context.Context, s Suggestion, o ApplyOptions) (*Applied, error) {
	unlock, err := e.DB.Lock(ctx, "policy-"+subject(s.Principal))
	if err != nil {
		return nil, err
	}
	defer func() { _ = unlock() }()
	open, err := e.open(ctx, s.Principal)
	if err != nil {
		return nil, err
	}
	if open != nil {
		doc, err := compactJSON(s.Policy)
		switch {
		case err != nil:
			return nil, err
		case open.Step == StepUndoing:
			return nil, fmt.Errorf("%w: apply %s of %s is being undone; 'keywarden policy undo %s' finishes it", ErrRefused, open.ID, s.Principal.Name, open.ID)
		case doc != open.Document:
			return nil, fmt.Errorf("%w: apply %s of %s, of another policy, is unfinished; run it again with its suggestion, or 'keywarden policy undo %s'", ErrRefused, open.ID, s.Principal.Name, open.ID)
		}
		return open, e.run(ctx, open)
	}
	a, err := e.plan(ctx, s, o)
	if err != nil {
		return nil, err
	}
	return a, e.run(ctx, a)
}

// plan checks every precondition and takes the snapshot.
func (e *Engine) plan(ctx context.Context, s Suggestion, o ApplyOptions) (*Applied, error) {
	doc, err := iampolicy.Parse(string(s.Policy))
	if err != nil {
		return nil, fmt.Errorf("%w: the suggested policy: %v", ErrRefused, err)
	}
	if err := Keeps(s, doc, e.Now().AddDate(0, 0, -o.KeepDays), o.KeepDays); err != nil {
		return nil, err
	}
	before, err := e.IAM.Current(ctx, s.Principal)
	if err != nil {
		return nil, err
	}
	before.Sort()
	if s.Fingerprint != "" && s.Fingerprint != before.Fingerprint() {
		return nil, fmt.Errorf("%w: the policies of %s %s changed since the suggestion was made; suggest again", ErrRefused, s.Principal.Type, s.Principal.Name)
	}
	name := PolicyName(s.Principal)
	arn, exists, err := e.IAM.PolicyExists(ctx, name)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, fmt.Errorf("%w: policy %s exists; 'keywarden policy undo' the apply that made it, or delete it", ErrRefused, arn)
	}
	compact, err := compactJSON(s.Policy)
	if err != nil {
		return nil, err
	}
	if n := len(compact); n > MaxPolicySize {
		return nil, fmt.Errorf("%w: the suggested policy is %d characters; a managed policy holds at most %d", ErrRefused, n, MaxPolicySize)
	}
	return &Applied{ID: state.NewID("lp"), Principal: s.Principal, Before: before, Name: name, Document: compact,
		At: e.Now().UTC()}, nil
}

// Keeps refuses a policy that would deny an action the suggestion's
// evidence shows used (at least once not denied) since since: each evidenced
// action on each of its resources ("*" when it names none) must be allowed
// by doc.
func Keeps(s Suggestion, doc iampolicy.Document, since time.Time, days int) error {
	e := iampolicy.Only(doc)
	for _, a := range s.Actions {
		if a.LastSeen.Before(since) || a.Count <= a.Denied {
			continue
		}
		resources := a.Resources
		if len(resources) == 0 {
			resources = []string{"*"}
		}
		for _, r := range resources {
			if !iampolicy.AllowsCertainly(e, a.Action, r) {
				return fmt.Errorf("%w: the suggested policy denies %s on %s, used %s (within --keep-days %d)",
					ErrRefused, a.Action, r, a.LastSeen.UTC().Format(time.RFC3339), days)
			}
		}
	}
	return nil
}

// run takes an apply from its journaled step to applied.
func (e *Engine) run(ctx context.Context, a *Applied) error {
	p := a.Principal
	steps := []struct {
		step string
		do   func() error
	}{
		{StepCreating, func() error { return e.create(ctx, a) }},
		{StepAttaching, func() error { return e.IAM.Attach(ctx, p, a.ARN) }},
		{StepDetaching, func() error {
			for _, m := range a.Before.Attached {
				if m.ARN != a.ARN {
					if err := e.IAM.Detach(ctx, p, m.ARN); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{StepRemoving, func() error {
			for _, in := range a.Before.Inline {
				if err := e.IAM.DeleteInline(ctx, p, in.Name); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	from := slices.IndexFunc(steps, func(s struct {
		step string
		do   func() error
	}) bool {
		return s.step == a.Step
	})
	from = max(from, 0)
	for _, s := range steps[from:] {
		if a.Step != s.step {
			if err := e.save(ctx, a, s.step, ""); err != nil {
				return err
			}
		}
		if err := s.do(); err != nil {
			return fmt.Errorf("apply %s (%s): %w", a.ID, s.step, err)
		}
	}
	return e.save(ctx, a, StepApplied, "the principal holds "+a.ARN)
}

// create makes the keywarden policy, or adopts the one a killed run made
// (plan checked that the name was free before the first change).
func (e *Engine) create(ctx context.Context, a *Applied) error {
	arn, err := e.IAM.CreatePolicy(ctx, a.Name, a.Document, map[string]string{
		"keywarden:apply": a.ID, "keywarden:principal": a.Principal.Type + "/" + a.Principal.Name})
	if errors.Is(err, ErrPolicyExists) {
		err = nil
	}
	if err != nil {
		return err
	}
	a.ARN = arn
	return e.save(ctx, a, StepCreating, "created "+arn)
}

// ErrNothingToUndo is returned for an apply already undone.
var ErrNothingToUndo = errors.New("nothing to undo")

// Undo puts the snapshot back exactly: the inline documents as IAM returned
// them, every managed policy attached again (customer managed ones at their
// default version), then the keywarden policy detached and deleted.
// Journaled before the first call; idempotent, so a killed undo is run again.
func (e *Engine) Undo(ctx context.Context, id string) (*Applied, error) {
	a, err := e.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	unlock, err := e.DB.Lock(ctx, "policy-"+subject(a.Principal))
	if err != nil {
		return nil, err
	}
	defer func() { _ = unlock() }()
	if a.Step == StepUndone {
		return a, fmt.Errorf("apply %s: %w", id, ErrNothingToUndo)
	}
	if err := e.save(ctx, a, StepUndoing, ""); err != nil {
		return nil, err
	}
	p := a.Principal
	for _, in := range a.Before.Inline {
		if err := e.IAM.PutInline(ctx, p, in.Name, in.Document); err != nil {
			return a, fmt.Errorf("undo %s: %w", id, err)
		}
	}
	for _, m := range a.Before.Attached {
		if m.DefaultVersion != "" {
			if err := e.IAM.SetDefaultVersion(ctx, m.ARN, m.DefaultVersion); err != nil {
				return a, fmt.Errorf("undo %s: %w", id, err)
			}
		}
		if err := e.IAM.Attach(ctx, p, m.ARN); err != nil {
			return a, fmt.Errorf("undo %s: %w", id, err)
		}
	}
	arn := a.ARN
	if arn == "" { // killed between CreatePolicy and its journal
		var exists bool
		if arn, exists, err = e.IAM.PolicyExists(ctx, a.Name); err != nil || !exists {
			arn = ""
		}
	}
	if arn != "" && !a.Before.has(arn) {
		if err := e.IAM.Detach(ctx, p, arn); err != nil {
			return a, fmt.Errorf("undo %s: %w", id, err)
		}
		if err := e.IAM.DeletePolicy(ctx, arn); err != nil {
			return a, fmt.Errorf("undo %s: %w", id, err)
		}
	}
	return a, e.save(ctx, a, StepUndone, "the snapshot is back")
}

// List returns every apply, oldest first.
func (e *Engine) List(ctx context.Context) ([]*Applied, error) {
	recs, err := e.DB.List(ctx, KindApply, state.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read applies: %w", err)
	}
	out := make([]*Applied, 0, len(recs))
	for _, r := range recs {
		a, err := fromRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ErrNotFound is wrapped when no apply has the id.
var ErrNotFound = errors.New("no such apply")

// Load reads one apply.
func (e *Engine) Load(ctx context.Context, id string) (*Applied, error) {
	r, err := e.DB.Get(ctx, KindApply, id)
	if errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("apply %s: %w ('keywarden policy list' shows them)", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return fromRecord(r)
}

func (e *Engine) open(ctx context.Context, p Principal) (*Applied, error) {
	recs, err := e.DB.List(ctx, KindApply, state.Filter{Subject: subject(p), OpenOnly: true})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return fromRecord(recs[len(recs)-1])
}

func (e *Engine) save(ctx context.Context, a *Applied, step, msg string) error {
	a.Step = step
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode apply %s: %w", a.ID, err)
	}
	rec := state.Record{Kind: KindApply, ID: a.ID, Subject: subject(a.Principal), Step: step, Data: data, Open: a.Open(),
		CreatedAt: a.At}
	if msg == "" {
		msg = step
	}
	err = e.DB.Tx(ctx, func(tx *state.Tx) error {
		if err := tx.Put(ctx, rec); err != nil {
			return err
		}
		return tx.Log(ctx, a.ID, step, msg)
	})
	if err != nil {
		return fmt.Errorf("journal apply %s at %s: %w", a.ID, step, err)
	}
	return nil
}

func fromRecord(r state.Record) (*Applied, error) {
	var a Applied
	if err := json.Unmarshal(r.Data, &a); err != nil {
		return nil, fmt.Errorf("decode apply %s: %w", r.ID, err)
	}
	a.ID, a.Step = r.ID, r.Step
	return &a, nil
}

// subject is what the journal files an apply under.
func subject(p Principal) string { return p.Account + ":" + p.Type + "/" + p.Name }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9+=,.@_-]`)

// PolicyName is the keywarden policy's name for p: keywarden-lp-NAME (role-
// principals keywarden-lp-role-NAME), within IAM's 128 characters.
func PolicyName(p Principal) string {
	n := "keywarden-lp-"
	if p.Type == "role" {
		n += "role-"
	}
	n += unsafeName.ReplaceAllString(p.Name, "-")
	if len(n) > 128 {
		n = n[:128]
	}
	return n
}

func compactJSON(raw json.RawMessage) (string, error) {
	var b strings.Builder
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("the suggested policy: %w", err)
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}
