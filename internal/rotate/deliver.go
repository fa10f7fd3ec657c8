package rotate

import (
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
// each. When one fails, the run rolls back: every target this run delivered
// to is restored and the new key deleted, leaving the old key as it was. If
// a target cannot be restored (GitHub secrets are write-only), nothing is
// deleted: both keys stay active and the rotation is marked stuck.
func (rt *Rotator) deliver(ctx context.Context, r *Rotation) error {
	key, err := rt.newKey(ctx, r)
	if err != nil {
		return err
	}
	creds := target.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret, UserName: r.User,
		AccountID: r.Account, Created: r.Created}
	j := journal{rt.DB}
	var done []delivered
	for _, spec := range r.pending() {
		t, err := rt.Targets(spec, r)
		if err != nil {
			err = fmt.Errorf("target %s: %w", spec, err)
		} else {
			var restore func(context.Context) error
			restore, err = t.Deliver(ctx, creds) // its errors name the target
			if err == nil {
				done = append(done, delivered{spec, restore})
				r.markDelivered(spec)
				err = j.save(ctx, r, StepCreated, "delivered to "+spec)
			}
		}
		if err != nil {
			return rt.rollback(context.WithoutCancel(ctx), r, done, err)
		}
		rt.say("delivered key %s to %s", key.ID, spec)
	}
	return j.save(ctx, r, StepDelivered, "every target holds the new key")
}

// rollback undoes this run's deliveries after cause, newest first, then
// deletes the new key. Targets delivered by an earlier, interrupted run are
// not restored: their old value is gone with that run.
func (rt *Rotator) rollback(ctx context.Context, r *Rotation, done []delivered, cause error) error {
	var stuck []string
	for i := len(done) - 1; i >= 0; i-- {
		d := done[i]
		if d.restore == nil {
			stuck = append(stuck, d.spec+" (cannot be read back)")
			continue
		}
		if err := d.restore(ctx); err != nil {
			stuck = append(stuck, fmt.Sprintf("%s (restore failed: %v)", d.spec, err))
			continue
		}
		rt.say("restored %s", d.spec)
	}
	for _, t := range r.Targets {
		if t.Delivered && !isDone(done, t.Spec) {
			stuck = append(stuck, t.Spec+" (delivered by an interrupted run)")
		}
	}
	j := journal{rt.DB}
	if len(stuck) > 0 {
		r.Note = fmt.Sprintf("%v; these still hold new key %s: %s", cause, r.NewKeyID, strings.Join(stuck, "; "))
		if err := j.save(ctx, r, StepStuck, r.Note); err != nil {
			return errors.Join(cause, err)
		}
		return fmt.Errorf("%w: both keys stay active; fix the failing target and run again, or undo with 'keywarden rotate undo %s': %s",
			cause, r.ID, strings.Join(stuck, "; "))
	}
	if err := rt.IAM.DeleteKey(ctx, r.User, r.NewKeyID); err != nil {
		return errors.Join(cause, fmt.Errorf("roll back: %w", err))
	}
	if err := j.save(ctx, r, StepRolledBack, fmt.Sprintf("%v; targets restored, new key %s deleted", cause, r.NewKeyID)); err != nil {
		return errors.Join(cause, err)
	}
	return fmt.Errorf("%w: rolled back (targets restored, new key %s deleted, old key %s unchanged)", cause, r.NewKeyID, r.OldKeyID)
}

func isDone(done []delivered, spec string) bool {
	for _, d := range done {
		if d.spec == spec {
			return true
		}
	}
	return false
}
