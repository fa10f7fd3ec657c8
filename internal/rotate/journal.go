package rotate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/state"
)

// Kind is the state journal's record kind for rotations.
const Kind = "rotation"

// Step is the last step a rotation reached. Each is journaled before the
// next change is made, so a killed run resumes from it.
type Step string

const (
	StepCreating    Step = "creating"     // about to create the new key; it may exist without its secret
	StepCreated     Step = "created"      // the new key and its secret are journaled
	StepDelivered   Step = "delivered"    // every target holds the new key
	StepVerified    Step = "verified"     // STS accepts the new key
	StepDeactivated Step = "deactivated"  // the old key is inactive, to be deleted after the grace period
	StepKept        Step = "kept"         // the old key was used after deactivation: not deleted
	StepDone        Step = "done"         // the old key is deleted (closed)
	StepRolledBack  Step = "rolled-back"  // a target failed or STS never took the new key: targets restored, new key deleted (closed)
	StepRollingBack Step = "rolling-back" // the rollback began; a later run finishes it
	StepStuck       Step = "stuck"        // a target failed and another could not be restored: both keys active
	StepUndone      Step = "undone"       // undo restored the old key (closed)
)

// closed steps end a rotation's record.
func (s Step) closed() bool { return s == StepDone || s == StepRolledBack || s == StepUndone }

// Secret names in the journal.
const (
	secretNew = "new" // the new key's secret, until every target holds it and it is verified
	secretOld = "old" // the old key's secret when known (profiles), for undo until the old key is deleted
)

// Rotation is one key rotation as journaled. Nothing in it is secret.
type Rotation struct {
	ID        string    `json:"-"`
	Step      Step      `json:"-"`
	Account   string    `json:"account"`
	User      string    `json:"user"`
	OldKeyID  string    `json:"old_key_id,omitempty"` // empty when the user had no key
	NewKeyID  string    `json:"new_key_id,omitempty"`
	Created   time.Time `json:"created,omitzero"` // when the new key was created
	Targets   []Target  `json:"targets"`
	Profile   string    `json:"profile,omitempty"` // the profile whose credentials sign the IAM calls; empty: the caller's
	Files     Files     `json:"files,omitzero"`    // the shared files of profile targets
	Backup    string    `json:"backup,omitempty"`  // a copy of the credentials file before the rotation, until the old key is deleted
	StartedAt time.Time `json:"started_at"`
	Grace     Duration  `json:"grace"`

	// BackupOf is the file Backup copies. Leftovers are the temporary files
	// (atomicfile.TempPath) a killed write of the rotation's files may leave,
	// every secret of the file in them. Both are journaled before the first
	// write; every later run removes the leftovers, and the end of the
	// rotation (done, rolled back, undone) the backup too.
	BackupOf  string   `json:"backup_of,omitempty"`
	Leftovers []string `json:"leftovers,omitempty"`

	DeactivatedAt time.Time `json:"deactivated_at,omitzero"`
	DeleteAfter   time.Time `json:"delete_after,omitzero"`
	Note          string    `json:"note,omitempty"`      // why it is stuck or kept
	SignedAs      string    `json:"signed_as,omitempty"` // the role that made the IAM calls, when not the user's own key
}

// Files are the AWS shared files a profile rotation writes.
type Files struct {
	Credentials string `json:"credentials,omitempty"`
	Config      string `json:"config,omitempty"`
}

// Target is one place the new key goes, and whether it got it.
type Target struct {
	Spec      string `json:"spec"`
	Delivered bool   `json:"delivered"`
}

// Subject is what the state journal files a rotation under: one IAM user,
// whose two-key limit rotations share.
func Subject(account, user string) string { return account + ":" + user }

// Duration is a time.Duration that reads and writes JSON as "168h0m0s".
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// journal keeps rotations in the state database.
type journal struct {
	db *state.DB
}

func (j journal) record(r *Rotation) (state.Record, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return state.Record{}, fmt.Errorf("encode rotation %s: %w", r.ID, err)
	}
	return state.Record{Kind: Kind, ID: r.ID, Subject: Subject(r.Account, r.User), Step: string(r.Step),
		Data: data, Open: !r.Step.closed()}, nil
}

// save journals r at step, with msg in its log; when the step closes the
// rotation, its secrets are dropped in the same transaction, and its backup
// and leftovers removed just before.
func (j journal) save(ctx context.Context, r *Rotation, step Step, msg string, secrets ...namedSecret) error {
	if step.closed() { // before the record closes: a kill in between leaves it open, and the next run removes them
		if err := r.removeFiles(true); err != nil {
			return err
		}
	}
	r.Step = step
	rec, err := j.record(r)
	if err != nil {
		return err
	}
	err = j.db.Tx(ctx, func(tx *state.Tx) error {
		if err := tx.Put(ctx, rec); err != nil {
			return err
		}
		for _, s := range secrets {
			if err := tx.PutSecret(ctx, r.ID, s.name, s.value); err != nil {
				return err
			}
		}
		if step.closed() {
			if err := tx.DropSecrets(ctx, r.ID); err != nil {
				return err
			}
		}
		return tx.Log(ctx, r.ID, string(step), msg)
	})
	if err != nil {
		return fmt.Errorf("journal rotation %s at %s: %w", r.ID, step, err)
	}
	return nil
}

// dropSecret forgets one secret once nothing needs it.
func (j journal) dropSecret(ctx context.Context, r *Rotation, name string) error {
	return j.db.DropSecret(ctx, r.ID, name)
}

type namedSecret struct {
	name  string
	value secret.Secret
}

// Load decodes a journaled rotation.
func Load(rec state.Record) (*Rotation, error) {
	var r Rotation
	if err := json.Unmarshal(rec.Data, &r); err != nil {
		return nil, fmt.Errorf("decode rotation %s: %w", rec.ID, err)
	}
	r.ID, r.Step = rec.ID, Step(rec.Step)
	return &r, nil
}

// open lists the open rotations of a user, oldest first, and removes the
// temporary files their killed runs left (the caller holds the user's lock,
// so no write of theirs is under way).
func (j journal) open(ctx context.Context, account, user string) ([]*Rotation, error) {
	open, err := list(ctx, j.db, state.Filter{Subject: Subject(account, user), OpenOnly: true})
	if err != nil {
		return nil, err
	}
	for _, r := range open {
		if err := r.removeFiles(false); err != nil {
			return nil, err
		}
	}
	return open, nil
}

// list loads the rotations the filter selects, oldest first.
func list(ctx context.Context, db *state.DB, f state.Filter) ([]*Rotation, error) {
	recs, err := db.List(ctx, Kind, f)
	if err != nil {
		return nil, err
	}
	out := make([]*Rotation, 0, len(recs))
	for _, rec := range recs {
		r, err := Load(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// replaced is the rotation that already replaced keyID (a concurrent run
// that held the lock first), if any; nil for an empty keyID.
func (j journal) replaced(ctx context.Context, account, user, keyID string) (*Rotation, error) {
	if keyID == "" {
		return nil, nil
	}
	recs, err := j.db.List(ctx, Kind, state.Filter{Subject: Subject(account, user)})
	if err != nil {
		return nil, err
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r, err := Load(recs[i])
		if err != nil {
			return nil, err
		}
		switch r.Step {
		case StepDeactivated, StepKept, StepDone:
			if r.OldKeyID == keyID {
				return r, nil
			}
		}
	}
	return nil, nil
}
