package retire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/rotate"
)

// FinishOptions are a finish's inputs.
type FinishOptions struct {
	// IDs are the retirements to finish (ids or key ids); none: every open one.
	IDs []string
	// Window is how long the key must stay unused after apply (and after
	// its last use) before it is deactivated.
	Window time.Duration
	// Grace is how long the deactivated key waits before it is deleted
	// (undo turns it back on meanwhile); 0 deletes it in the same run.
	Grace time.Duration
}

// What a finish did with a retirement.
const (
	FinishWaiting     = "waiting"     // the quiet window has not ended
	FinishInUse       = "in-use"      // the key was used after apply: its consumer has not changed yet
	FinishRoleUnused  = "role-unused" // the key is quiet but the role shows no use: has the consumer changed?
	FinishDeactivated = "deactivated" // the key is inactive until its grace ends
	FinishGrace       = "grace"       // deactivated, its grace not over
	FinishKept        = "kept"        // used after it was deactivated: not deleted
	FinishRetired     = "retired"     // the key is deleted
	FinishClosed      = "closed"      // nothing to do (retired, undone)
)

// Finished is one retirement after a finish.
type Finished struct {
	Retirement Retirement
	Step       string
	Did        string // one of the Finish* values
	Note       string
}

// Late says the key was used when it should not have been (after apply, or
// after it was deactivated): something still holds it.
func (f Finished) Late() bool { return f.Did == FinishInUse || f.Did == FinishKept }

// Finish moves each retiring key on: once it stayed unused for the window
// after apply and the role shows use, it is deactivated; once the grace
// after that is over, deleted unless it was used since (rotate's own
// DeleteUnlessUsed). A late use is reported, never deleted over.
func (a *Applier) Finish(ctx context.Context, o FinishOptions) ([]Finished, error) {
	entries, err := a.finishEntries(ctx, o.IDs)
	if err != nil {
		return nil, err
	}
	var out []Finished
	for _, e := range entries {
		f, err := a.finishOne(ctx, e.Retirement.ID, o)
		if err != nil {
			return out, fmt.Errorf("finish %s: %w", e.Retirement.ID, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// finishEntries are the named retirements, or every open one.
func (a *Applier) finishEntries(ctx context.Context, ids []string) ([]Entry, error) {
	if len(ids) > 0 {
		out := make([]Entry, 0, len(ids))
		for _, id := range ids {
			e, err := a.Find(ctx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	all, err := a.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range all {
		if e.Open && !isBuildStep(e.Step) && e.Step != StepUndoing {
			out = append(out, e)
		}
	}
	return out, nil
}

// finishOne runs one retirement from its journaled step, under its lock.
func (a *Applier) finishOne(ctx context.Context, id string, o FinishOptions) (Finished, error) {
	unlock, err := a.DB.Lock(ctx, id)
	if err != nil {
		return Finished{}, err
	}
	defer unlock()
	r, step, _, err := a.load(ctx, id)
	if err != nil {
		return Finished{}, err
	}
	f := Finished{Retirement: r, Step: step}
	switch step {
	case StepRetiring:
		err = a.quiet(ctx, &f, o)
	case StepDeactivating:
		err = a.deactivate(ctx, &f, o)
	case StepDeactivated, StepDeleting, StepKept:
		err = a.deleteDue(ctx, &f)
	case StepRetired, StepUndone:
		f.Did = FinishClosed
	default:
		return f, fmt.Errorf("retirement %s is %s: run 'keywarden retire %s' again first", id, step, verbFor(step))
	}
	return f, err
}

func verbFor(step string) string {
	if step == StepUndoing {
		return "undo"
	}
	return "apply"
}

// quiet deactivates the key once it stayed unused for the window after
// apply and after its last use, and the role was used since apply.
func (a *Applier) quiet(ctx context.Context, f *Finished, o FinishOptions) error {
	r := &f.Retirement
	use, err := a.Keys.LastUsed(ctx, r.AccessKeyID)
	if errors.Is(err, rotate.ErrNoSuchKey) {
		return a.closeGone(ctx, f)
	}
	if err != nil {
		return err
	}
	now := a.Now().UTC()
	from := r.RetiringAt
	if use.At.After(from) {
		from = use.At
	}
	ends := from.Add(o.Window)
	if use.At.After(r.RetiringAt) {
		f.Did = FinishInUse
		f.Note = fmt.Sprintf("key %s was used at %s%s, after apply at %s: its consumer has not changed yet (quiet window ends %s at the soonest)",
			r.AccessKeyID, stamp(use.At), use.Where(), stamp(r.RetiringAt), stamp(ends))
		return a.note(ctx, f)
	}
	if now.Before(ends) {
		f.Did, f.Note = FinishWaiting, fmt.Sprintf("key %s unused since apply; the quiet window ends %s", r.AccessKeyID, stamp(ends))
		return nil
	}
	if r.RoleARN != "" {
		role, found, err := a.IAM.Role(ctx, r.Replacement.Role)
		if err != nil {
			return err
		}
		if !found || !role.LastUsed.After(r.RetiringAt) {
			f.Did = FinishRoleUnused
			f.Note = fmt.Sprintf("key %s is quiet, but role %s shows no use since apply: has its consumer changed? waiting", r.AccessKeyID, r.RoleARN)
			if !found {
				f.Note = fmt.Sprintf("key %s is quiet, but role %s is gone: 'keywarden retire apply' builds it again", r.AccessKeyID, r.RoleARN)
			}
			return a.note(ctx, f)
		}
	}
	return a.deactivate(ctx, f, o)
}

// deactivate turns the key off (journaled first) and sets when it may be
// deleted; with no grace it goes on to the delete.
func (a *Applier) deactivate(ctx context.Context, f *Finished, o FinishOptions) error {
	r := &f.Retirement
	if err := a.save(ctx, r, StepDeactivating); err != nil {
		return err
	}
	if err := a.Keys.SetActive(ctx, r.User, r.AccessKeyID, false); err != nil {
		return err
	}
	now := a.Now().UTC()
	r.DeactivatedAt, r.DeleteAfter, r.Note = now, now.Add(o.Grace), ""
	if err := a.save(ctx, r, StepDeactivated); err != nil {
		return err
	}
	f.Step, f.Did = StepDeactivated, FinishDeactivated
	f.Note = fmt.Sprintf("deactivated key %s; deleted after %s unless used ('keywarden retire undo %s' turns it back on)", r.AccessKeyID, stamp(r.DeleteAfter), r.ID)
	a.say("%s", f.Note)
	if o.Grace > 0 {
		return nil
	}
	return a.deleteDue(ctx, f)
}

// deleteDue deletes the deactivated key once its grace is over, unless it
// was used after it was deactivated.
func (a *Applier) deleteDue(ctx context.Context, f *Finished) error {
	r := &f.Retirement
	if a.Now().Before(r.DeleteAfter) {
		f.Did, f.Note = FinishGrace, fmt.Sprintf("key %s is inactive; deleted after %s", r.AccessKeyID, stamp(r.DeleteAfter))
		return nil
	}
	if err := a.save(ctx, r, StepDeleting); err != nil {
		return err
	}
	d, err := rotate.DeleteUnlessUsed(ctx, a.Keys, r.User, r.AccessKeyID, r.DeactivatedAt)
	if err != nil {
		return err
	}
	if d.Kept {
		r.Note = d.LateUse("retired key", r.AccessKeyID, r.DeactivatedAt)
		f.Step, f.Did, f.Note = StepKept, FinishKept, r.Note
		return a.save(ctx, r, StepKept)
	}
	r.Note = "key deleted"
	if d.Gone {
		r.Note = "key already deleted"
	}
	f.Step, f.Did, f.Note = StepRetired, FinishRetired, fmt.Sprintf("%s: %s", r.Note, r.AccessKeyID)
	a.say("deleted key %s", r.AccessKeyID)
	return a.save(ctx, r, StepRetired)
}

// closeGone closes a retirement whose key was deleted by someone else.
func (a *Applier) closeGone(ctx context.Context, f *Finished) error {
	r := &f.Retirement
	r.Note = "key already deleted"
	f.Step, f.Did, f.Note = StepRetired, FinishRetired, fmt.Sprintf("key %s was already deleted", r.AccessKeyID)
	return a.save(ctx, r, StepRetired)
}

// note keeps what this run found in the record, at the same step.
func (a *Applier) note(ctx context.Context, f *Finished) error {
	f.Retirement.Note = f.Note
	return a.save(ctx, &f.Retirement, f.Step)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
