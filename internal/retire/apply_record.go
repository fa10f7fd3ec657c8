package retire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/state"
)

// ErrNotFound is wrapped when no retirement has the id (or key id).
var ErrNotFound = errors.New("no such retirement")

// Entry is a retirement as listed: its record and the step it reached.
type Entry struct {
	Retirement Retirement
	Step       string
	Open       bool
}

// List lists the retirements of the state database, oldest first.
func (a *Applier) List(ctx context.Context) ([]Entry, error) {
	recs, err := a.DB.List(ctx, Kind, state.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read retirements: %w", err)
	}
	out := make([]Entry, 0, len(recs))
	for _, rec := range recs {
		r, err := retirementOf(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Retirement: r, Step: rec.Step, Open: rec.Open})
	}
	return out, nil
}

// Find reads the retirement id names: its id or its key's id.
func (a *Applier) Find(ctx context.Context, id string) (Entry, error) {
	if !strings.HasPrefix(id, "retire-") {
		id = IDOf(id)
	}
	r, step, found, err := a.load(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	if !found {
		return Entry{}, fmt.Errorf("retirement %s: %w", id, ErrNotFound)
	}
	return Entry{Retirement: r, Step: step, Open: step != StepRetired && step != StepUndone}, nil
}

// load reads a retirement's record.
func (a *Applier) load(ctx context.Context, id string) (Retirement, string, bool, error) {
	rec, err := a.DB.Get(ctx, Kind, id)
	if errors.Is(err, state.ErrNotFound) {
		return Retirement{}, "", false, nil
	}
	if err != nil {
		return Retirement{}, "", false, fmt.Errorf("read retirement %s: %w", id, err)
	}
	r, err := retirementOf(rec)
	return r, rec.Step, true, err
}

func retirementOf(rec state.Record) (Retirement, error) {
	var r Retirement
	if err := json.Unmarshal(rec.Data, &r); err != nil {
		return Retirement{}, fmt.Errorf("decode retirement %s: %w", rec.ID, err)
	}
	return r, nil
}

// save journals r at step (closed at retired and undone).
func (a *Applier) save(ctx context.Context, r *Retirement, step string) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode retirement %s: %w", r.ID, err)
	}
	rec := state.Record{Kind: Kind, ID: r.ID, Subject: r.AccessKeyID, Step: step, Data: data,
		Open: step != StepRetired && step != StepUndone, CreatedAt: r.StartedAt}
	if err := a.DB.Put(ctx, rec); err != nil {
		return fmt.Errorf("journal retirement %s at %s: %w", r.ID, step, err)
	}
	return nil
}
