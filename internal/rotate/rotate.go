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
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/state"
)

// IAM is the access-key API a rotation uses (rotateaws.IAM).
type IAM interface {
	ListKeys(ctx context.Context, user string) ([]AccessKey, error)
	LastUsed(ctx context.Context, keyID string) (KeyUse, error)
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

// KeyUse is a key's last use as IAM records it (iam:GetAccessKeyLastUsed);
// zero when never used.
type KeyUse struct {
	At              time.Time
	Service, Region string // empty (or IAM's "N/A") when never used
}

// String says when, with what and where: "last used 2026-11-20 (s3,
// eu-west-1)", "never used".
func (u KeyUse) String() string {
	if u.At.IsZero() {
		return "never used"
	}
	return "last used " + u.At.UTC().Format(time.DateOnly) + u.Where()
}

// Where is " (service, region)" as far as IAM knows them; "" when it
// knows neither.
func (u KeyUse) Where() string {
	known := slices.DeleteFunc([]string{u.Service, u.Region}, func(v string) bool { return v == "" || v == "N/A" })
	if len(known) == 0 {
		return ""
	}
	return " (" + strings.Join(known, ", ") + ")"
}

// ErrNoSuchKey is wrapped when IAM says an access key does not exist.
var ErrNoSuchKey = errors.New("no such access key")

// ErrDenied is wrapped when IAM refuses a call for want of permission: a
// profile whose user may not manage its own keys then signs as its role.
var ErrDenied = errors.New("access denied")

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

	// Writable checks that a shared file can be replaced before the first
	// change; nil: atomicfile.Writable (tests replace it: root writes anywhere).
	Writable func(path string) error

	VerifyTimeout time.Duration // how long IAM propagation may take before the new key works; then the rotation rolls back
	VerifyEvery   time.Duration // the first wait between verification attempts (doubles, at most 5 s)

	done  []delivered // the targets this run delivered to, and how to restore each
	fresh string      // the key this run created: no earlier run can have written it anywhere
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
	SignedAs      string        // the role that makes the IAM calls, when not the user itself (journaled)
	// Contained says the old key was deactivated on purpose (respond's
	// containment): rotating an inactive old key is then the point, not a
	// problem hidden.
	Contained bool
	DryRun    bool
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
	rt.done, rt.fresh = nil, ""
	j := journal{rt.DB}
	open, err := j.open(ctx, req.Account, req.User)
	if err != nil {
		return nil, err
	}
	if r := inFlight(open); r != nil {
		rt.say("resuming rotation %s of %s from step %s", r.ID, req.User, r.Step)
		if err := rt.checkResumed(ctx, r); err != nil {
			return r, err
		}
		return r, rt.advance(ctx, r, req.DryRun)
	}
	if done, err := j.replaced(ctx, req.Account, req.User, req.OldKeyID); err != nil || done != nil {
		if err != nil {
			return nil, err
		}
		return rt.alreadyRotated(ctx, done, req, open)
	}
	keys, err := rt.IAM.ListKeys(ctx, req.User)
	if err != nil {
		return nil, err
	}
	old, err := rt.pickOld(ctx, req, keys)
	if err != nil {
		return nil, err
	}
	if req.IfOlderThan > 0 && old != nil && rt.Now().Sub(old.Created) < req.IfOlderThan {
		return nil, fmt.Errorf("key %s is %s old, under --if-older-than %s: %w", old.ID, days(rt.Now().Sub(old.Created)), days(req.IfOlderThan), ErrNotDue)
	}
	r := &Rotation{ID: state.NewID("rot"), Account: req.Account, User: req.User, Profile: req.Profile, Files: req.Files,
		StartedAt: rt.Now().UTC(), Grace: Duration(req.Grace), SignedAs: req.SignedAs}
	if old != nil {
		r.OldKeyID = old.ID
	}
	for _, spec := range req.Targets {
		r.Targets = append(r.Targets, Target{Spec: spec})
	}
	// Every check before the first change: nothing irreversible (not even
	// an earlier rotation's due deletion) runs unless all of them pass.
	pf, err := rt.check(ctx, req, r, keys, old, open)
	if err != nil {
		return nil, err
	}
	if req.DryRun {
		rt.plan(r, pf.passed)
		return r, nil
	}
	finished, err := rt.deleteDue(ctx, open)
	if err != nil {
		return nil, err
	}
	// A rotation without grace that was killed before deleting its old key
	// is the one this run was asked for: it is now complete.
	for _, f := range finished {
		if f.Grace == 0 {
			return f, nil
		}
	}
	if len(keys) >= 2 {
		if err := rt.makeRoom(ctx, req, pf, old, open); err != nil {
			return nil, err
		}
	}
	rt.recordFiles(r)
	var secrets []namedSecret
	if !req.OldSecret.IsZero() {
		secrets = append(secrets, namedSecret{secretOld, req.OldSecret})
	}
	if err := j.save(ctx, r, StepCreating, "rotation started"+signedAs(r), secrets...); err != nil {
		return nil, err
	}
	return r, rt.advance(ctx, r, false)
}

// alreadyRotated reports the rotation that already replaced the key this
// run was asked to replace (a concurrent run, or one killed after
// deactivating), finishing it when its grace has ended.
func (rt *Rotator) alreadyRotated(ctx context.Context, done *Rotation, req Request, open []*Rotation) (*Rotation, error) {
	if !req.DryRun {
		finished, err := rt.deleteDue(ctx, open)
		if err != nil {
			return nil, err
		}
		for _, f := range finished {
			if f.ID == done.ID {
				done = f
			}
		}
	}
	rt.say("key %s was already rotated to %s by rotation %s (%s)", req.OldKeyID, done.NewKeyID, done.ID, done.Step)
	return done, nil
}

// checkResumed checks the targets a resumed rotation has still to deliver
// to, before it creates or delivers anything.
func (rt *Rotator) checkResumed(ctx context.Context, r *Rotation) error {
	if r.Step != StepCreating && r.Step != StepCreated {
		return nil
	}
	for _, spec := range r.pending() {
		if _, err := rt.checkTarget(ctx, spec, r); err != nil {
			return fmt.Errorf("%w (rotation %s stays at step %s: run again once fixed)", err, r.ID, r.Step)
		}
	}
	return nil
}

// signedAs is ", signed as ARN" for the journal's log when a role signs.
func signedAs(r *Rotation) string {
	if r.SignedAs == "" {
		return ""
	}
	return ", signed as " + r.SignedAs
}

// inFlight is the user's rotation that a killed run left between creating
// the new key and deactivating the old one, if any.
func inFlight(open []*Rotation) *Rotation {
	for _, r := range open {
		switch r.Step {
		case StepStuck: // the user fixed the failing target: deliver again
			r.Step = StepCreated
			return r
		case StepCreating, StepCreated, StepDelivered, StepVerified, StepRollingBack:
			return r
		}
	}
	return nil
}

// pickOld finds the key to replace: the one named, else the only active key.
func (rt *Rotator) pickOld(ctx context.Context, req Request, keys []AccessKey) (*AccessKey, error) {
	if id := req.OldKeyID; id != "" {
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
	return nil, fmt.Errorf("the user has two active keys: %s; say which to replace (--key-id): %w",
		rt.describeKeys(ctx, req, active, nil), ErrStopped)
}

func (rt *Rotator) lastUse(ctx context.Context, id string) string {
	u, err := rt.IAM.LastUsed(ctx, id)
	if err != nil {
		return "last use unknown"
	}
	return u.String()
}

// advance runs r from its journaled step to the end of what this run may do:
// through deactivation, and deletion too when the grace period is zero.
func (rt *Rotator) advance(ctx context.Context, r *Rotation, dryRun bool) error {
	if dryRun {
		rt.plan(r, nil)
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
		case StepRollingBack: // killed while rolling back: finish that
			return rt.rollback(ctx, r, errors.New(r.Note))
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
	rt.fresh = key.ID
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

// delivered lists target specs that hold the new key.
func (r *Rotation) delivered() []string {
	var out []string
	for _, t := range r.Targets {
		if t.Delivered {
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
