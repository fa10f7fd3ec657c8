package respond

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/rotate"
)

// Rotator creates a new key for a user and delivers it to rotate's
// targets, with rotate's journal, verification and rollback
// (rotate.Rotator).
type Rotator interface {
	Rotate(ctx context.Context, req rotate.Request) (*rotate.Rotation, error)
}

// ReplaceGrace keeps the exposed key (inactive) this long after its
// replacement, as evidence and for undo, before a later rotate deletes it.
const ReplaceGrace = 30 * 24 * time.Hour

// checkReplace runs rotate's checks of the replacement (a dry run: the
// exposed key is its owner's, there is room for a new key, every target is
// ready) before the response's first change, so a replacement that cannot
// be made stops the response with nothing contained, instead of failing
// once the key is shut. Without ReplaceTo there is nothing to check.
func (r *Responder) checkReplace(ctx context.Context, req Request, rep *Report) error {
	if len(req.ReplaceTo) == 0 {
		return nil
	}
	err := errors.New("no rotator to make the new key")
	if r.Rotator != nil {
		_, err = r.Rotator.Rotate(ctx, replacement(req, rep, true))
	}
	if err == nil {
		return nil
	}
	rep.step("replace", StepFailed, "%v", err)
	rep.step("contain", StepSkipped, "nothing was contained: the replacement cannot be made")
	return fmt.Errorf("replace %s: %w; nothing was contained: fix it, or run without --replace-to to contain at once", exposedKey(rep), err)
}

// replace creates a new key for the exposed key's owner and delivers it to
// req.ReplaceTo. Containment stays when it fails: the exposed key is
// shut whether or not its replacement could be made.
func (r *Responder) replace(ctx context.Context, req Request, rep *Report) error {
	rot, err := r.Rotator.Rotate(ctx, replacement(req, rep, false))
	if err != nil {
		rep.step("replace", StepFailed, "%v", err)
		return fmt.Errorf("replace %s: %w", exposedKey(rep), err)
	}
	rep.Replacement = rot.NewKeyID
	rep.step("replace", StepDone, "new key %s delivered to %s; %s stays inactive %d days", rot.NewKeyID,
		strings.Join(req.ReplaceTo, ", "), exposedKey(rep), int(ReplaceGrace/(24*time.Hour)))
	return nil
}

// exposedKey is the key the response replaces: the exposed key, or for a
// temporary key, its parent (contained and replaced in its stead).
func exposedKey(rep *Report) string {
	if rep.MintedBy != "" {
		return rep.MintedBy
	}
	return rep.KeyID
}

// replacement is the rotation that replaces the exposed key; dryRun makes
// it rotate's checks only. Contained: the exposed key is inactive because
// this response contained it, which is no reason to refuse the rotation.
func replacement(req Request, rep *Report, dryRun bool) rotate.Request {
	return rotate.Request{Account: rep.AccountID, User: rep.Owner.User, OldKeyID: exposedKey(rep),
		Targets: req.ReplaceTo, Grace: ReplaceGrace, DryRun: dryRun, Contained: true}
}

// QuietDryRuns is rotate's Rotator as a Responder's: its dry runs (the
// check of the replacement before containment) print nothing, so the plan
// of a rotation is not shown, as "nothing is changed", just before the
// response changes things.
type QuietDryRuns struct{ *rotate.Rotator }

// Rotate runs req, a dry run with rotate's progress lines discarded.
func (q QuietDryRuns) Rotate(ctx context.Context, req rotate.Request) (*rotate.Rotation, error) {
	if !req.DryRun {
		return q.Rotator.Rotate(ctx, req)
	}
	quiet := *q.Rotator
	quiet.Out = io.Discard
	return quiet.Rotate(ctx, req)
}

// RunAll responds to each key in turn and hands each report to report as
// it is made. It stops at the first error, once that response's report
// was handed over.
func (r *Responder) RunAll(ctx context.Context, keys []string, req Request, report func(*Report) error) error {
	for _, key := range keys {
		req.KeyID = key
		rep, err := r.Run(ctx, req)
		if rerr := report(rep); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
