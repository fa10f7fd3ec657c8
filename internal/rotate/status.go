package rotate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keywarden/keywarden/internal/state"
)

// List is the journal's rotations, oldest first: the open ones, or all.
func List(ctx context.Context, db *state.DB, openOnly bool) ([]*Rotation, error) {
	return list(ctx, db, state.Filter{OpenOnly: openOnly})
}

// ErrNoOpen is wrapped when there is no open rotation to undo.
var ErrNoOpen = errors.New("no open rotation")

// Pick is the open rotation to undo: the one with id, else the most recent.
func Pick(open []*Rotation, id string) (*Rotation, error) {
	if id == "" {
		if len(open) == 0 {
			return nil, fmt.Errorf("%w to undo", ErrNoOpen)
		}
		return open[len(open)-1], nil
	}
	for _, r := range open {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w %s ('keywarden rotate status --all' lists them)", ErrNoOpen, id)
}

// WriteTable writes rotations as the table of `keywarden rotate status`.
func WriteTable(w io.Writer, rs []*Rotation) error {
	if len(rs) == 0 {
		fmt.Fprintln(w, "no open rotations")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tUSER\tSTEP\tOLD KEY\tNEW KEY\tDELETE AFTER\tNOTE")
	for _, r := range rs {
		deleteAfter := "-"
		if !r.DeleteAfter.IsZero() && r.Step == StepDeactivated {
			deleteAfter = r.DeleteAfter.Format(time.RFC3339)
		}
		note := r.Note
		if r.SignedAs != "" {
			note = strings.TrimPrefix(note+"; signed as "+r.SignedAs, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Account, r.User, r.Step,
			cmp.Or(r.OldKeyID, "-"), cmp.Or(r.NewKeyID, "-"), deleteAfter, cmp.Or(note, "-"))
	}
	return tw.Flush()
}

// rotationJSON is one rotation in WriteJSON.
type rotationJSON struct {
	ID   string `json:"id"`
	Step string `json:"step"`
	*Rotation
}

// WriteJSON writes rotations as `keywarden rotate status --format json`:
// each one's journaled fields, with its id and step.
func WriteJSON(w io.Writer, rs []*Rotation) error {
	out := make([]rotationJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, rotationJSON{ID: r.ID, Step: string(r.Step), Rotation: r})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
