package rotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate/target"
)

// verify waits until STS accepts the new key: IAM is eventually consistent
// and a new key may be refused for some seconds. If it is still refused at
// the limit (--verify-timeout), the rotation rolls back: no target is left
// holding a key that does not work, and the old key was never touched.
func (rt *Rotator) verify(ctx context.Context, r *Rotation) error {
	key, err := rt.newKey(ctx, r)
	if err != nil {
		return err
	}
	deadline := rt.Now().Add(rt.VerifyTimeout)
	wait := max(rt.VerifyEvery, 100*time.Millisecond)
	for {
		res := rt.IAM.Verify(ctx, key)
		if res.Status == credential.Active {
			break
		}
		if !rt.Now().Before(deadline) {
			cause := fmt.Errorf("verify new key %s: STS still refuses it after --verify-timeout %s (%v): %w",
				key.ID, rt.VerifyTimeout, res.Err, ErrStopped)
			return rt.rollback(context.WithoutCancel(ctx), r, cause)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("verify new key %s: %w", key.ID, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	rt.say("verified key %s with STS", key.ID)
	return (journal{rt.DB}).save(ctx, r, StepVerified, "STS accepts the new key")
}

// deactivate turns the old key off (never deletes it yet: a deactivated key
// can be turned back on if something breaks). The new key's secret leaves
// the journal: every target holds it.
func (rt *Rotator) deactivate(ctx context.Context, r *Rotation) error {
	if rt.Successor != nil {
		key, err := rt.newKey(ctx, r)
		if err != nil {
			return err
		}
		rt.IAM, rt.Successor = rt.Successor(key), nil
	}
	now := rt.Now().UTC()
	if r.OldKeyID != "" {
		if err := rt.IAM.SetActive(ctx, r.User, r.OldKeyID, false); err != nil {
			return err
		}
		rt.say("deactivated old key %s", r.OldKeyID)
	}
	r.DeactivatedAt, r.DeleteAfter = now, now.Add(time.Duration(r.Grace))
	if err := (journal{rt.DB}).save(ctx, r, StepDeactivated, "old key deactivated"); err != nil {
		return err
	}
	return (journal{rt.DB}).dropSecret(ctx, r, secretNew)
}

// finish deletes the old key, unless it was used after it was deactivated:
// then something still holds it, and deleting would break that for good.
func (rt *Rotator) finish(ctx context.Context, r *Rotation) error {
	j := journal{rt.DB}
	if r.OldKeyID == "" {
		return j.save(ctx, r, StepDone, "no old key to delete")
	}
	d, err := DeleteUnlessUsed(ctx, rt.IAM, r.User, r.OldKeyID, r.DeactivatedAt)
	switch {
	case err != nil:
		return err
	case d.Gone: // deleted by a run killed before it could journal that
		return j.save(ctx, r, StepDone, "old key already deleted")
	case d.Kept:
		r.Note = d.LateUse("old key", r.OldKeyID, r.DeactivatedAt)
		rt.say("kept: %s", r.Note)
		return j.save(ctx, r, StepKept, r.Note)
	}
	rt.say("deleted old key %s", r.OldKeyID)
	return j.save(ctx, r, StepDone, "old key deleted")
}

// KeyDeleter is the part of IAM that deletes a deactivated key.
type KeyDeleter interface {
	LastUsed(ctx context.Context, keyID string) (KeyUse, error)
	DeleteKey(ctx context.Context, user, keyID string) error
}

// Deletion is what DeleteUnlessUsed did: deleted the key, found it gone
// already, or kept it because it was used after it was deactivated.
type Deletion struct {
	Gone bool
	Kept bool
	Use  KeyUse // the key's last use (Kept)
}

// DeleteUnlessUsed deletes user's key keyID, deactivated at deactivated,
// unless IAM saw it used after that: then something still holds it, and
// deleting would break that for good. Rotate and retire finish with it.
func DeleteUnlessUsed(ctx context.Context, iam KeyDeleter, user, keyID string, deactivated time.Time) (Deletion, error) {
	used, err := iam.LastUsed(ctx, keyID)
	if errors.Is(err, ErrNoSuchKey) {
		return Deletion{Gone: true}, nil
	}
	if err != nil {
		return Deletion{}, err
	}
	if used.At.After(deactivated) {
		return Deletion{Kept: true, Use: used}, nil
	}
	if err := iam.DeleteKey(ctx, user, keyID); err != nil {
		return Deletion{}, err
	}
	return Deletion{}, nil
}

// LateUse says why a kept key was kept: "old key AKIA... was used at ...
// (s3, eu-west-1), after it was deactivated at ...: something still holds
// it; find it ... before deleting the key".
func (d Deletion) LateUse(what, keyID string, deactivated time.Time) string {
	return fmt.Sprintf("%s %s was used at %s%s, after it was deactivated at %s: something still holds it; "+
		"find it (CloudTrail, keywarden scan) before deleting the key", what, keyID, d.Use.At.UTC().Format(time.RFC3339), d.Use.Where(), deactivated.UTC().Format(time.RFC3339))
}

// DeleteDue deletes the old keys of the user's rotations whose grace period
// has ended, and reports the ones kept. It is what a later (cron) run does.
func (rt *Rotator) DeleteDue(ctx context.Context, account, user string) ([]*Rotation, error) {
	unlock, err := rt.DB.Lock(ctx, "rotate-"+Subject(account, user))
	if err != nil {
		return nil, fmt.Errorf("lock rotation of %s: %w", user, err)
	}
	defer unlock()
	open, err := journal{rt.DB}.open(ctx, account, user)
	if err != nil {
		return nil, err
	}
	return rt.deleteDue(ctx, open)
}

// deleteDue finishes the rotations of open past their grace period.
func (rt *Rotator) deleteDue(ctx context.Context, open []*Rotation) ([]*Rotation, error) {
	var touched []*Rotation
	for _, r := range open {
		if r.Step != StepDeactivated || rt.Now().Before(r.DeleteAfter) {
			continue
		}
		if err := rt.finish(ctx, r); err != nil {
			return touched, fmt.Errorf("rotation %s: %w", r.ID, err)
		}
		touched = append(touched, r)
	}
	return touched, nil
}

// Undo turns a rotation back while its old key exists: reactivate the old
// key; when its secret is journaled (profile rotations), deliver it back to
// every target and deactivate the new key. Otherwise (a service user's key,
// whose old secret keywarden never saw) the targets keep the new key, which
// stays active, and are named.
func (rt *Rotator) Undo(ctx context.Context, r *Rotation) error {
	if r.Step.closed() || r.Step == StepCreating {
		return fmt.Errorf("rotation %s is %s: nothing to undo: %w", r.ID, r.Step, ErrStopped)
	}
	if r.Step == StepRollingBack {
		return fmt.Errorf("rotation %s is rolling back: run 'keywarden rotate' again to finish that: %w", r.ID, ErrStopped)
	}
	if r.OldKeyID == "" {
		return fmt.Errorf("rotation %s replaced no key: delete the new key %s instead: %w", r.ID, r.NewKeyID, ErrStopped)
	}
	if r.Step == StepDeactivated {
		if _, err := rt.IAM.LastUsed(ctx, r.OldKeyID); errors.Is(err, ErrNoSuchKey) {
			// Deleted by a run killed before it could journal that.
			if err := (journal{rt.DB}).save(ctx, r, StepDone, "old key already deleted"); err != nil {
				return err
			}
			return fmt.Errorf("rotation %s is done: its old key %s was already deleted: nothing to undo: %w", r.ID, r.OldKeyID, ErrStopped)
		}
	}
	old, err := rt.DB.Secret(ctx, r.ID, secretOld)
	unknown := err != nil || old.IsZero()
	if unknown && r.Step == StepCreated && len(r.pending()) > 0 {
		// A run stopped while delivering: a target may hold the new key
		// unknown to the journal, which alone keeps its secret.
		return fmt.Errorf("rotation %s stopped while delivering the new key, and keywarden never knew the old secret to put back: "+
			"run the same rotation again to finish it, then undo: %w", r.ID, ErrStopped)
	}
	if err := rt.IAM.SetActive(ctx, r.User, r.OldKeyID, true); err != nil {
		return fmt.Errorf("undo %s: reactivate %s: %w", r.ID, r.OldKeyID, err)
	}
	rt.say("reactivated old key %s", r.OldKeyID)
	if unknown {
		var held []string
		for _, t := range r.Targets {
			if t.Delivered {
				held = append(held, t.Spec)
			}
		}
		rt.say("new key %s stays active: the old key's secret was never known to keywarden, so %v keep the new key", r.NewKeyID, held)
		return (journal{rt.DB}).save(ctx, r, StepUndone, "old key reactivated; new key kept for the targets")
	}
	creds := target.Credentials{AccessKeyID: r.OldKeyID, SecretAccessKey: old, UserName: r.User, AccountID: r.Account}
	for _, tg := range r.Targets { // not only those journaled: a killed run may have written one
		spec := tg.Spec
		t, err := rt.Targets(spec, r)
		if err == nil {
			_, err = t.Deliver(ctx, creds)
		}
		if err != nil {
			return fmt.Errorf("undo %s: put the old key back into %s: %w (the old key is active again; run undo again)", r.ID, spec, err)
		}
		rt.say("put old key %s back into %s", r.OldKeyID, spec)
	}
	if r.NewKeyID != "" {
		if err := rt.IAM.SetActive(ctx, r.User, r.NewKeyID, false); err != nil {
			return fmt.Errorf("undo %s: deactivate new key %s: %w", r.ID, r.NewKeyID, err)
		}
		rt.say("deactivated new key %s (delete it when sure: aws iam delete-access-key --user-name %s --access-key-id %s)",
			r.NewKeyID, r.User, r.NewKeyID)
	}
	return (journal{rt.DB}).save(ctx, r, StepUndone, "old key reactivated and put back; new key deactivated")
}
