package respond

import (
	"context"
	"errors"
	"fmt"
)

// ErrNothingToUndo is returned for an incident already undone.
var ErrNothingToUndo = errors.New("nothing to undo")

// Undo reverses an incident's containment for the false-alarm case:
// reactivate the key, remove the session deny, detach the quarantine
// policy — and any of them a killed run may have made (InDoubt). A deleted
// console password cannot be restored (AWS never shows
// it): that is said, with the command to set a new one. Each reversal is
// journaled, so an interrupted undo runs again safely.
func (r *Responder) Undo(ctx context.Context, id string) (*Incident, error) {
	inc, _, err := Load(ctx, r.DB, id)
	if err != nil {
		return nil, err
	}
	if inc.Undone {
		return inc, fmt.Errorf("incident %s: %w", id, ErrNothingToUndo)
	}
	j := journal{r.DB}
	for i := len(inc.Actions) - 1; i >= 0; i-- {
		a := &inc.Actions[i]
		if !a.Applied && !a.InDoubt || a.Undone {
			continue
		}
		msg, err := r.reverse(ctx, *a)
		if err != nil {
			return inc, fmt.Errorf("undo %s of incident %s: %w", a.Kind, id, err)
		}
		a.Undone = true
		if err := j.save(ctx, inc, "undo-"+string(a.Kind), msg); err != nil {
			return inc, err
		}
		r.say("%s", msg)
	}
	inc.Undone = true
	return inc, j.save(ctx, inc, "undone", "containment reversed")
}

func (r *Responder) reverse(ctx context.Context, a Action) (string, error) {
	switch a.Kind {
	case DeactivateKey:
		return fmt.Sprintf("reactivated key %s of %s", a.KeyID, a.User), r.IAM.SetActive(ctx, a.User, a.KeyID, true)
	case RevokeSessions:
		return fmt.Sprintf("removed the session deny from %s", a.User), r.IAM.DeleteRevokeSessions(ctx, a.User)
	case Quarantine:
		return fmt.Sprintf("detached the quarantine policy from %s", a.User), r.IAM.DetachQuarantine(ctx, a.User)
	case DisableConsole:
		return fmt.Sprintf("the console password of %s was deleted and cannot be restored: set a new one with "+
			"aws iam create-login-profile --user-name %s --password-reset-required --password ...", a.User, a.User), nil
	}
	return "", fmt.Errorf("unknown action %q", a.Kind)
}
