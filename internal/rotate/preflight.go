package rotate

import (
	"context"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/rotate/target"
)

// preflight is what the checks before the first change found: each check
// that passed, said in a few words (a dry run prints them), and whether
// the user's inactive second key may be deleted to make room.
type preflight struct {
	passed      []string
	deleteOther bool // consented: delete the inactive second key once the checks pass
}

// check runs, before anything changes, every check of r that can be made
// without changing anything: the old key is active, there is room for a
// new key, every target is ready (its file writable, its token set). A
// failed check stops the run with nothing changed; a check that passes
// here but fails once changes began (a file made unwritable meanwhile)
// rolls the rotation back at that step.
func (rt *Rotator) check(ctx context.Context, req Request, r *Rotation, keys []AccessKey, old *AccessKey, open []*Rotation) (preflight, error) {
	var pf preflight
	if old != nil {
		if !old.Active && !req.Contained {
			// The caller's context names the user ("rotate user ci: ...").
			return pf, fmt.Errorf("key %s is already inactive in IAM: rotating it would hide why it was deactivated; "+
				"reactivate it if it should work (aws iam update-access-key --user-name %s --access-key-id %s --status Active), "+
				"or remove it from where it is kept: %w",
				old.ID, req.User, old.ID, ErrStopped)
		}
		if old.Active {
			pf.passed = append(pf.passed, "old key "+old.ID+" is active")
		}
	}
	room, err := rt.checkRoom(ctx, req, keys, old, open)
	if err != nil {
		return pf, err
	}
	pf.passed, pf.deleteOther = append(pf.passed, room.passed...), room.deleteOther
	for _, spec := range r.pending() {
		what, err := rt.checkTarget(ctx, spec, r)
		if err != nil {
			return pf, fmt.Errorf("%w (checked before any change: nothing was changed)", err)
		}
		pf.passed = append(pf.passed, what)
	}
	return pf, nil
}

// checkTarget checks one target: a shared file must be writable, any other
// target passes its own check (target.Checker).
func (rt *Rotator) checkTarget(ctx context.Context, spec string, r *Rotation) (string, error) {
	if path := r.sharedFilePath(spec); path != "" {
		writable := rt.Writable
		if writable == nil {
			writable = atomicfile.Writable
		}
		if err := writable(path); err != nil {
			return "", fmt.Errorf("target %s: %s: %w", spec, path, err)
		}
		return spec + ": " + path + " writable", nil
	}
	t, err := rt.Targets(spec, r)
	if err != nil {
		return "", fmt.Errorf("target %s: %w", spec, err)
	}
	if err := target.Check(ctx, t); err != nil {
		return "", err
	}
	return spec + " ready", nil
}

// sharedFilePath is the file a credentials: or config: spec writes; "" for
// any other target.
func (r *Rotation) sharedFilePath(spec string) string {
	switch {
	case strings.HasPrefix(spec, awsfile.Credentials.String()+":"):
		return r.Files.Credentials
	case strings.HasPrefix(spec, awsfile.Config.String()+":"):
		return r.Files.Config
	}
	return ""
}

// checkRoom keeps the user under IAM's limit of two keys: an active second
// key stops the run, saying which key is which and when each was last
// used; an inactive one may be deleted, with consent, unless it is the old
// key of an earlier rotation whose grace has ended (that rotation deletes
// it).
func (rt *Rotator) checkRoom(ctx context.Context, req Request, keys []AccessKey, old *AccessKey, open []*Rotation) (preflight, error) {
	if len(keys) < 2 {
		return preflight{passed: []string{"room for a new key"}}, nil
	}
	other := keys[0]
	if old != nil && other.ID == old.ID {
		other = keys[1]
	}
	if other.Active {
		return preflight{}, fmt.Errorf("user %s already has two active keys: %s; IAM allows two, and deleting an active key "+
			"could break what uses it: find which is unused (keywarden audit keys), deactivate it, and run again: %w",
			req.User, rt.describeKeys(ctx, req, keys, old), ErrStopped)
	}
	for _, r := range open {
		if r.OldKeyID == other.ID && r.Step == StepDeactivated && !rt.Now().Before(r.DeleteAfter) {
			return preflight{passed: []string{"room for a new key once rotation " + r.ID + " deletes " + other.ID}}, nil
		}
	}
	q := fmt.Sprintf("user %s has an inactive second key %s (%s); delete it to make room for the new key?", req.User, other.ID, rt.lastUse(ctx, other.ID))
	if req.DryRun {
		return preflight{passed: []string{"would ask: " + q}}, nil
	}
	if !rt.Confirm(q) {
		return preflight{}, fmt.Errorf("user %s has two keys and deleting the inactive %s was declined: %w", req.User, other.ID, ErrStopped)
	}
	return preflight{passed: []string{"room for a new key: inactive " + other.ID + " to be deleted"}, deleteOther: true}, nil
}

// describeKeys names each key, says which one is kept locally and which is
// not, and when, with what and where each was last used.
func (rt *Rotator) describeKeys(ctx context.Context, req Request, keys []AccessKey, old *AccessKey) string {
	var parts []string
	for _, k := range keys {
		where := "not known locally"
		switch {
		case old != nil && k.ID == old.ID && !req.OldSecret.IsZero():
			where = "the one in " + strings.Join(req.Targets, " and ")
		case old != nil && k.ID == old.ID:
			where = "the one to replace"
		}
		parts = append(parts, fmt.Sprintf("%s (%s; %s)", k.ID, where, rt.lastUse(ctx, k.ID)))
	}
	return strings.Join(parts, " and ")
}

// makeRoom deletes the inactive second key the checks were allowed to
// delete, once every check passed and due rotations ran. An earlier
// rotation waiting to delete that key is finished.
func (rt *Rotator) makeRoom(ctx context.Context, req Request, pf preflight, old *AccessKey, open []*Rotation) error {
	keys, err := rt.IAM.ListKeys(ctx, req.User)
	if err != nil || len(keys) < 2 {
		return err
	}
	other := keys[0]
	if old != nil && other.ID == old.ID {
		other = keys[1]
	}
	if other.Active || !pf.deleteOther {
		// A due rotation kept its old key (used late): it says why.
		return fmt.Errorf("user %s still has two keys (%s kept): %w", req.User, other.ID, ErrStopped)
	}
	if err := rt.IAM.DeleteKey(ctx, req.User, other.ID); err != nil {
		return err
	}
	rt.say("deleted inactive key %s of %s", other.ID, req.User)
	for _, r := range open {
		if r.OldKeyID == other.ID && !r.Step.closed() {
			if err := (journal{rt.DB}).save(ctx, r, StepDone, "old key deleted to make room for a new rotation"); err != nil {
				return err
			}
		}
	}
	return nil
}
