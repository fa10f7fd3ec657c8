package rotate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

// delivered is a target that took the new key in this run, and how to put
// back what it held.
type delivered struct {
	spec    string
	restore func(context.Context) error
}

// deliver gives the new key to every target not yet holding it, journaling
// each. When one fails, the run rolls back (rollback). The targets this run
// delivered to, with how to restore each, stay on the Rotator for a
// rollback at verification.
func (rt *Rotator) deliver(ctx context.Context, r *Rotation) error {
	key, err := rt.newKey(ctx, r)
	if err != nil {
		return err
	}
	creds := target.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret, UserName: r.User,
		AccountID: r.Account, Created: r.Created}
	j := journal{rt.DB}
	for _, spec := range r.pending() {
		t, err := rt.Targets(spec, r)
		if err != nil {
			err = fmt.Errorf("target %s: %w", spec, err)
		} else {
			var restore func(context.Context) error
			restore, err = t.Deliver(ctx, creds) // its errors name the target
			if err == nil {
				// What spec held before is the state to restore only when
				// this run made the key: a killed run may have written it
				// there unjournaled, and restoring that would leave a
				// deleted key in place of the old one (restore then puts
				// the journaled old key back instead).
				if rt.fresh == key.ID {
					rt.done = append(rt.done, delivered{spec, restore})
				}
				r.markDelivered(spec)
				err = j.save(ctx, r, StepCreated, "delivered to "+spec)
			}
		}
		if err != nil {
			return rt.rollback(context.WithoutCancel(ctx), r, err)
		}
		rt.say("delivered key %s to %s", key.ID, spec)
	}
	return j.save(ctx, r, StepDelivered, "every target holds the new key")
}

// rollback puts things back after cause (a target failed, or STS never
// accepted the new key): the intent is journaled first (a run killed while
// rolling back finishes the rollback, never the rotation), then every
// target that took the new key is restored, newest first — with what it
// held before when this run created the key and delivered it, else with the
// old key when its secret is journaled (a profile's) — and the new key is deleted: the
// old key stays as it was. A target that cannot be restored (GitHub
// secrets, exec) keeps the new key in use, so nothing is deleted: both keys
// stay active and the rotation is stuck.
func (rt *Rotator) rollback(ctx context.Context, r *Rotation, cause error) error {
	j := journal{rt.DB}
	if r.Step != StepRollingBack {
		r.Note = cause.Error()
		if err := j.save(ctx, r, StepRollingBack, "rolling back: "+r.Note); err != nil {
			return errors.Join(cause, err)
		}
	}
	var stuck []string
	for i := len(r.Targets) - 1; i >= 0; i-- {
		t := r.Targets[i]
		if !t.Delivered {
			continue
		}
		if err := rt.restore(ctx, r, t.Spec); err != nil {
			stuck = append(stuck, fmt.Sprintf("%s (%v)", t.Spec, err))
			continue
		}
		r.Targets[i].Delivered = false
		rt.say("restored %s", t.Spec)
	}
	if len(stuck) > 0 {
		r.Note = fmt.Sprintf("%v; these still hold new key %s: %s", cause, r.NewKeyID, strings.Join(stuck, "; "))
		if err := j.save(ctx, r, StepStuck, r.Note); err != nil {
			return errors.Join(cause, err)
		}
		return fmt.Errorf("%w: both keys stay active; run again once the cause is fixed, or undo with 'keywarden rotate undo %s': %s",
			cause, r.ID, strings.Join(stuck, "; "))
	}
	if r.NewKeyID != "" {
		if err := rt.IAM.DeleteKey(ctx, r.User, r.NewKeyID); err != nil {
			return errors.Join(cause, fmt.Errorf("roll back: %w (rotation %s finishes the rollback when run again)", err, r.ID))
		}
	}
	r.Note = fmt.Sprintf("%v; targets restored, new key %s deleted", cause, r.NewKeyID)
	if err := j.save(ctx, r, StepRolledBack, r.Note); err != nil {
		return errors.Join(cause, err)
	}
	return fmt.Errorf("%w: rolled back (targets restored, new key %s deleted, old key %s unchanged)", cause, r.NewKeyID, cmp.Or(r.OldKeyID, "(none)"))
}

// restore puts back what spec held before the new key: this run's restore
// function, else the journaled old key delivered again.
func (rt *Rotator) restore(ctx context.Context, r *Rotation, spec string) error {
	for _, d := range rt.done {
		if d.spec != spec {
			continue
		}
		if d.restore == nil {
			return errors.New("cannot be read back")
		}
		if err := d.restore(ctx); err != nil {
			return fmt.Errorf("restore failed: %w", err)
		}
		return nil
	}
	old, err := rt.DB.Secret(ctx, r.ID, secretOld)
	if err != nil || old.IsZero() || r.OldKeyID == "" {
		return errors.New("delivered by an interrupted run, and the old key's secret is not known")
	}
	t, err := rt.Targets(spec, r)
	if err == nil {
		_, err = t.Deliver(ctx, target.Credentials{AccessKeyID: r.OldKeyID, SecretAccessKey: old, UserName: r.User, AccountID: r.Account})
	}
	if err != nil {
		return fmt.Errorf("putting the old key back failed: %w", err)
	}
	return nil
}
