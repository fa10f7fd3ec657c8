// Package rotate rotates IAM access keys so that no credential is ever lost:
// create the new key, journal it (AWS shows a secret once), deliver it to
// every place that holds the old one, verify it with STS, deactivate the old
// key, and delete it after a grace period unless it was used after
// deactivation. Every step is journaled in the state database before the
// next change is made, so a run killed at any point resumes where it stopped:
// never a third key, never a key whose secret was lost, never a place left
// pointing at a deactivated key.
//
// A Session runs one `keywarden rotate`: it finds where each profile's key
// is kept (Profiles), signs as the right identity (Signers: the profile's
// key, an MFA session, a service user's caller), runs a rotations file, and
// reports each outcome in one line; status and undo read its journal.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/state"
)

// IAM is the access-key API a rotation uses (rotateaws.IAM).
type IAM interface {
	ListKeys(ctx context.Context, user string) ([]AccessKey, error)
	LastUsed(ctx context.Context, keyID string) (time.Time, error)
	CreateKey(ctx context.Context, user string) (credential.Key, time.Time, error)
	SetActive(ctx context.Context, user, keyID string, active bool) error
	DeleteKey(ctx context.Context, user, keyID string) error
	Verify(ctx context.Context, key credential.Key) credential.Result
}

// AccessKey is one of a user's access keys as IAM lists it.
type AccessKey struct {
	ID      string
	Active  bool
	Created time.Time
}

// ErrNoSuchKey is wrapped when IAM says an access key does not exist.
var ErrNoSuchKey = errors.New("no such access key")

// Rotator runs rotations against one signing identity.
type Rotator struct {
	IAM     IAM
	DB      *state.DB
	Targets func(spec string, r *Rotation) (target.Target, error) // turns a journaled spec back into a Target
	Confirm func(question string) bool                            // asks before a destructive step; --yes answers true
	Out     io.Writer                                             // progress, one line per step
	Now     func() time.Time

	// Successor, when set, is the IAM to use once the new key works: a
	// profile's key signs its own rotation, and AWS refuses a deactivated
	// key, so deactivating and deleting the old key sign with the new one.
	Successor func(newKey credential.Key) IAM

	VerifyTimeout time.Duration // how long IAM propagation may take before the new key works
	VerifyEvery   time.Duration // the first wait between verification attempts (doubles, at most 5 s)
}

// Request is one rotation to start (or resume).
type Request struct {
	Account, User string
	OldKeyID      string        // the key to replace; empty: the user's only active key
	OldSecret     secret.Secret // the old key's secret when known, kept for undo
	Targets       []string      // where the new key goes
	Profile       string        // journaled: whose credentials a later run uses
	Files         Files         // the shared files of credentials:/config: targets
	Grace         time.Duration // delete the old key this long after deactivating it; 0: at once
	IfOlderThan   time.Duration // rotate only a key at least this old; 0: always
	DryRun        bool
}

// ErrNotDue is returned when --if-older-than says the key can wait.
var ErrNotDue = errors.New("not due")

// ErrStopped is wrapped when a rotation stops on a condition the user must resolve.
var ErrStopped = errors.New("rotation stopped")

// Rotate rotates req.User's key, or resumes the user's unfinished rotation.
// It holds a lock on the user for the whole run, so two rotations of one
// user cannot both create keys.
func (rt *Rotator) Rotate(ctx context.Context, req Request) (*Rotation, error) {
	unlock, err := rt.DB.Lock(ctx, "rotate-"+Subject(req.Account, req.User))
	if err != nil {
		return nil, fmt.Errorf("lock rotation of %s: %w", req.User, err)
	}
	defer unlock()
	j := journal{rt.DB}
	open, err := j.open(ctx, req.Account, req.User)
	if err != nil {
		return nil, err
	}
	if r := inFlight(open); r != nil {
		rt.say("resuming rotation %s of %s from step %s", r.ID, req.User, r.Step)
		return r, rt.advance(ctx, r, req.DryRun)
	}
	if !req.DryRun {
		finished, err := rt.deleteDue(ctx, open)
		if err != nil {
			return nil, err
		}
		// A rotation without grace that was killed before deleting its
		// old key is the one this run was asked for: it is now complete.
		for _, r := range finished {
			if r.Grace == 0 {
				return r, nil
			}
		}
	}
	if done, err := j.replaced(ctx, req.Account, req.User, req.OldKeyID); err != nil || done != nil {
		if done != nil {
			rt.say("key %s was already rotated to %s by rotation %s (%s)", req.OldKeyID, done.NewKeyID, done.ID, done.Step)
		}
		return done, err
	}
	keys, err := rt.IAM.ListKeys(ctx, req.User)
	if err != nil {
		return nil, err
	}
	old, err := pickOld(keys, req.OldKeyID)
	if err != nil {
		return nil, err
	}
	if req.IfOlderThan > 0 && old != nil && rt.Now().Sub(old.Created) < req.IfOlderThan {
		return nil, fmt.Errorf("key %s is %s old, under --if-older-than %s: %w", old.ID, days(rt.Now().Sub(old.Created)), days(req.IfOlderThan), ErrNotDue)
	}
	if err := rt.makeRoom(ctx, req, keys, old, open); err != nil {
		return nil, err
	}
	r := &Rotation{ID: state.NewID("rot"), Account: req.Account, User: req.User, Profile: req.Profile, Files: req.Files,
		StartedAt: rt.Now().UTC(), Grace: Duration(req.Grace)}
	if old != nil {
		r.OldKeyID = old.ID
	}
	for _, spec := range req.Targets {
		r.Targets = append(r.Targets, Target{Spec: spec})
	}
	if req.DryRun {
		rt.plan(r)
		return r, nil
	}
	rt.recordFiles(r)
	var secrets []namedSecret
	if !req.OldSecret.IsZero() {
		secrets = append(secrets, namedSecret{secretOld, req.OldSecret})
	}
	if err := j.save(ctx, r, StepCreating, "rotation started", secrets...); err != nil {
		return nil, err
	}
	return r, rt.advance(ctx, r, false)
}

// inFlight is the user's rotation that a killed run left between creating
// the new key and deactivating the old one, if any.
func inFlight(open []*Rotation) *Rotation {
	for _, r := range open {
		switch r.Step {
		case StepStuck: // the user fixed the failing target: deliver again
			r.Step = StepCreated
			return r
		case StepCreating, StepCreated, StepDelivered, StepVerified:
			return r
		}
	}
	return nil
}

// pickOld finds the key to replace: the one named, else the only active key.
func pickOld(keys []AccessKey, id string) (*AccessKey, error) {
	if id != "" {
		for i := range keys {
			if keys[i].ID == id {
				return &keys[i], nil
			}
		}
		return nil, fmt.Errorf("key %s does not belong to the user (or no longer exists): %w", id, ErrStopped)
	}
	var active []AccessKey
	for _, k := range keys {
		if k.Active {
			active = append(active, k)
		}
	}
	switch len(active) {
	case 0:
		return nil, nil
	case 1:
		return &active[0], nil
	}
	return nil, fmt.Errorf("the user has two active keys (%s, %s): say which to replace: %w", active[0].ID, active[1].ID, ErrStopped)
}

// makeRoom keeps the user under IAM's limit of two keys: a second key that
// is inactive may be deleted (with consent, or at once when it is the old
// key of an earlier rotation past its grace); an active one stops the run.
func (rt *Rotator) makeRoom(ctx context.Context, req Request, keys []AccessKey, old *AccessKey, open []*Rotation) error {
	if len(keys) < 2 {
		return nil
	}
	other := keys[0]
	if old != nil && other.ID == old.ID {
		other = keys[1]
	}
	if other.Active {
		return fmt.Errorf("user %s already has two active keys (%s and %s): IAM allows two, and deleting an active key "+
			"could break what uses it; find which is unused (keywarden audit keys), deactivate it, and run again: %w",
			req.User, keys[0].ID, keys[1].ID, ErrStopped)
	}
	q := fmt.Sprintf("user %s has an inactive second key %s (%s); delete it to make room for the new key?", req.User, other.ID, rt.lastUse(ctx, other.ID))
	if req.DryRun {
		rt.say("would ask: %s", q)
		return nil
	}
	if !rt.Confirm(q) {
		return fmt.Errorf("user %s has two keys and deleting the inactive %s was declined: %w", req.User, other.ID, ErrStopped)
	}
	if err := rt.IAM.DeleteKey(ctx, req.User, other.ID); err != nil {
		return err
	}
	rt.say("deleted inactive key %s of %s", other.ID, req.User)
	// An earlier rotation waiting to delete that key is finished.
	for _, r := range open {
		if r.OldKeyID == other.ID {
			if err := (journal{rt.DB}).save(ctx, r, StepDone, "old key deleted to make room for a new rotation"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rt *Rotator) lastUse(ctx context.Context, id string) string {
	t, err := rt.IAM.LastUsed(ctx, id)
	switch {
	case err != nil:
		return "last use unknown"
	case t.IsZero():
		return "never used"
	}
	return "last used " + t.UTC().Format(time.DateOnly)
}

// advance runs r from its journaled step to the end of what this run may do:
// through deactivation, and deletion too when the grace period is zero.
func (rt *Rotator) advance(ctx context.Context, r *Rotation, dryRun bool) error {
	if dryRun {
		rt.plan(r)
		return nil
	}
	for {
		var err error
		switch r.Step {
		case StepCreating:
			err = rt.create(ctx, r)
		case StepCreated:
			err = rt.deliver(ctx, r)
		case StepDelivered:
			err = rt.verify(ctx, r)
		case StepVerified:
			err = rt.deactivate(ctx, r)
		case StepDeactivated:
			if r.Grace > 0 {
				return nil // a later run deletes the old key (DeleteDue)
			}
			return rt.finish(ctx, r)
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// orphanWindow is how close to a rotation's start (both clocks, local and
// AWS's) a key must have been created to be that rotation's orphan.
const orphanWindow = 10 * time.Minute

// create makes the new key. A key that exists besides the old one at this
// step was created by a run killed before it could journal the secret: the
// secret is lost, so that orphan is deleted first.
func (rt *Rotator) create(ctx context.Context, r *Rotation) error {
	keys, err := rt.IAM.ListKeys(ctx, r.User)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == r.OldKeyID {
			continue
		}
		if d := k.Created.Sub(r.StartedAt).Abs(); d > orphanWindow {
			return fmt.Errorf("user %s has key %s, created %s, which this rotation did not make: "+
				"rotation %s stops rather than delete it: %w", r.User, k.ID, k.Created.UTC().Format(time.RFC3339), r.ID, ErrStopped)
		}
		if err := rt.IAM.DeleteKey(ctx, r.User, k.ID); err != nil {
			return fmt.Errorf("delete orphan key %s (created by an interrupted run, its secret never journaled): %w", k.ID, err)
		}
		rt.say("deleted orphan key %s: an interrupted run created it but never kept its secret", k.ID)
	}
	key, created, err := rt.IAM.CreateKey(ctx, r.User)
	if err != nil {
		return err
	}
	r.NewKeyID, r.Created = key.ID, created.UTC()
	if err := (journal{rt.DB}).save(ctx, r, StepCreated, "created key "+key.ID, namedSecret{secretNew, key.Secret}); err != nil {
		// The secret is not journaled: the key is useless; delete it.
		if derr := rt.IAM.DeleteKey(context.WithoutCancel(ctx), r.User, key.ID); derr != nil {
			return fmt.Errorf("%w (and deleting the unjournaled key %s failed: %v: a later run deletes it)", err, key.ID, derr)
		}
		return err
	}
	rt.say("created key %s for %s (journaled)", key.ID, r.User)
	return nil
}

func (rt *Rotator) say(format string, args ...any) {
	if rt.Out != nil {
		fmt.Fprintf(rt.Out, format+"\n", args...)
	}
}

// days renders a duration in whole days (or hours under a day).
func days(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// newKey is the journaled new key with its secret.
func (rt *Rotator) newKey(ctx context.Context, r *Rotation) (credential.Key, error) {
	s, err := rt.DB.Secret(ctx, r.ID, secretNew)
	if err != nil || s.IsZero() {
		return credential.Key{}, fmt.Errorf("rotation %s: the new key's secret is not in the journal: %v", r.ID, err)
	}
	return credential.Key{ID: r.NewKeyID, Secret: s}, nil
}

// pending lists target specs not yet delivered.
func (r *Rotation) pending() []string {
	var out []string
	for _, t := range r.Targets {
		if !t.Delivered {
			out = append(out, t.Spec)
		}
	}
	return out
}

func (r *Rotation) markDelivered(spec string) {
	i := slices.IndexFunc(r.Targets, func(t Target) bool { return t.Spec == spec })
	if i >= 0 {
		r.Targets[i].Delivered = true
	}
}
