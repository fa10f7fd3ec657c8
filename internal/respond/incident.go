// Package respond is the playbook for an exposed access key: identify its
// owner, assess the owner's rights, contain (deactivate the key — never
// delete it —, revoke every session minted from it, optionally quarantine
// the user and disable its console login), review what the key and the
// keys it minted did, replace it, report, and undo the containment for a
// false alarm. Every change is journaled in the state database before it
// is made.
package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/state"
)

// Kind is the state journal's record kind for incidents.
const Kind = "incident"

// ActionKind is one containment step.
type ActionKind string

const (
	DeactivateKey  ActionKind = "deactivate-key"  // UpdateAccessKey Inactive (never delete: it can come back)
	RevokeSessions ActionKind = "revoke-sessions" // inline Deny on aws:TokenIssueTime before now
	Quarantine     ActionKind = "quarantine"      // AWS's compromised-key quarantine policy attached
	DisableConsole ActionKind = "disable-console" // login profile deleted
)

// Action is one planned change and whether it was made.
type Action struct {
	Kind    ActionKind `json:"kind"`
	User    string     `json:"user"`
	KeyID   string     `json:"key_id,omitempty"`
	Before  time.Time  `json:"before,omitzero"` // RevokeSessions: sessions issued before this are denied
	Applied bool       `json:"applied"`
	At      time.Time  `json:"at,omitzero"`
	Skipped string     `json:"skipped,omitempty"` // why it was not needed (key already inactive, no login profile)
	// InDoubt is journaled before the change is made and cleared once it is
	// known to be made: a run killed in between leaves the change maybe
	// made, and undo reverses it (every reversal may be repeated).
	InDoubt bool `json:"in_doubt,omitempty"`
	Undone  bool `json:"undone,omitempty"`
	// Error is why the change failed; it may still have been made
	// (InDoubt), and undo reverses it.
	Error string `json:"error,omitempty"`
}

// Command is the aws CLI equivalent of the action, for the report.
func (a Action) Command() string {
	switch a.Kind {
	case DeactivateKey:
		return fmt.Sprintf("aws iam update-access-key --user-name %s --access-key-id %s --status Inactive", a.User, a.KeyID)
	case RevokeSessions:
		return fmt.Sprintf("aws iam put-user-policy --user-name %s --policy-name %s --policy-document <deny * when aws:TokenIssueTime < %s>",
			a.User, RevokePolicyName, a.Before.UTC().Format(time.RFC3339))
	case Quarantine:
		return fmt.Sprintf("aws iam attach-user-policy --user-name %s --policy-arn <AWSCompromisedKeyQuarantine>", a.User)
	case DisableConsole:
		return fmt.Sprintf("aws iam delete-login-profile --user-name %s", a.User)
	}
	return ""
}

// Incident is one response as journaled. Nothing in it is secret.
type Incident struct {
	ID        string    `json:"-"`
	KeyID     string    `json:"key_id"`
	Account   string    `json:"account_id"`
	User      string    `json:"user,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Actions   []Action  `json:"actions"`
	Undone    bool      `json:"undone,omitempty"`
}

// journal keeps incidents in the state database.
type journal struct{ db *state.DB }

func (j journal) save(ctx context.Context, inc *Incident, step, msg string) error {
	data, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("encode incident %s: %w", inc.ID, err)
	}
	rec := state.Record{Kind: Kind, ID: inc.ID, Subject: inc.KeyID, Step: step, Data: data, Open: !inc.Undone}
	err = j.db.Tx(ctx, func(tx *state.Tx) error {
		if err := tx.Put(ctx, rec); err != nil {
			return err
		}
		return tx.Log(ctx, inc.ID, step, msg)
	})
	if err != nil {
		return fmt.Errorf("journal incident %s: %w", inc.ID, err)
	}
	return nil
}

// Load reads a journaled incident and its log.
func Load(ctx context.Context, db *state.DB, id string) (*Incident, []state.Entry, error) {
	rec, err := db.Get(ctx, Kind, id)
	if err != nil {
		return nil, nil, err
	}
	var inc Incident
	if err := json.Unmarshal(rec.Data, &inc); err != nil {
		return nil, nil, fmt.Errorf("decode incident %s: %w", id, err)
	}
	inc.ID = rec.ID
	entries, err := db.Entries(ctx, id)
	return &inc, entries, err
}
