package respond

import (
	"context"
	"fmt"
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

// replace creates a new key for the exposed key's owner and delivers it to
// req.ReplaceTo.
func (r *Responder) replace(ctx context.Context, req Request, rep *Report) error {
	exposed := rep.KeyID
	if rep.MintedBy != "" {
		exposed = rep.MintedBy // a temporary key: its parent was contained and is replaced
	}
	rot, err := r.Rotator.Rotate(ctx, rotate.Request{Account: rep.AccountID, User: rep.Owner.User, OldKeyID: exposed,
		Targets: req.ReplaceTo, Grace: ReplaceGrace, Contained: true})
	if err != nil {
		rep.step("replace", StepFailed, "%v", err)
		return fmt.Errorf("replace %s: %w", exposed, err)
	}
	rep.Replacement = rot.NewKeyID
	rep.step("replace", StepDone, "new key %s delivered to %s; %s stays inactive %d days", rot.NewKeyID,
		strings.Join(req.ReplaceTo, ", "), exposed, int(ReplaceGrace/(24*time.Hour)))
	return nil
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
