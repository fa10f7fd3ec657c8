// Package canary is keywarden's honey access keys: the record of each canary
// (who it is in IAM, its key id, where its secret was planted) as the state
// database keeps it, the registry every other verb asks "is this key a
// canary?", and the life cycle (Engine: create, place, rotate, delete, list,
// journaled step by step) with its placement formats and ordinary-looking
// identities. The secret itself is never kept: it exists only in the
// placements.
package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/state"
)

// Kind is the state record kind of a canary.
const Kind = "canary"

// Placement is one place a canary's secret was written.
type Placement struct {
	Format string `json:"format"` // credentials, dotenv, export, json, tfvars, k8s, envfile, csv, gha
	Path   string `json:"path"`
	// Template is the block keywarden wrote, with the key id, secret and
	// date as placeholders (never the secret): how a rotation or a delete
	// finds it again. Created: keywarden created the file. Mode: the
	// file's permissions before keywarden first wrote to it (a placement is
	// 0600 while it holds the secret; delete gives the file its mode back).
	Template string      `json:"template,omitempty"`
	Created  bool        `json:"created,omitempty"`
	Mode     os.FileMode `json:"mode,omitempty"`
}

// Canary is one honey key. The record id is its Name; Subject is its key id.
type Canary struct {
	Name        string      `json:"name"`
	Account     string      `json:"account"`
	User        string      `json:"user"`
	Path        string      `json:"path"` // the IAM path, e.g. /service/
	ARN         string      `json:"arn"`
	Policy      string      `json:"policy,omitempty"` // the deny-all inline policy's name
	AccessKeyID string      `json:"access_key_id"`
	Placements  []Placement `json:"placements"`
	CreatedAt   time.Time   `json:"created_at"`
	// LastUsed is the GetAccessKeyLastUsed value last seen by a check (zero
	// when the key was never used), the baseline the unlogged-call channel
	// compares against.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Where names the placements for an alert line: "credentials:~/.aws/credentials, dotenv:app/.env".
func (c Canary) Where() string {
	s := ""
	for i, p := range c.Placements {
		if i > 0 {
			s += ", "
		}
		s += p.Format + ":" + p.Path
	}
	if s == "" {
		return "not planted"
	}
	return s
}

// Record is c as the state database keeps it. step is the journal step
// reached (create and delete journal like rotate); open means unfinished.
func (c Canary) Record(step string, open bool) (state.Record, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return state.Record{}, fmt.Errorf("encode canary %s: %w", c.Name, err)
	}
	return state.Record{Kind: Kind, ID: c.Name, Subject: c.AccessKeyID, Step: step, Data: data, Open: open,
		CreatedAt: c.CreatedAt}, nil
}

// FromRecord decodes a canary record.
func FromRecord(r state.Record) (Canary, error) {
	var c Canary
	if err := json.Unmarshal(r.Data, &c); err != nil {
		return Canary{}, fmt.Errorf("decode canary %s: %w", r.ID, err)
	}
	return c, nil
}

// Lister is the part of the state database the registry reads.
type Lister interface {
	List(ctx context.Context, kind string, f state.Filter) ([]state.Record, error)
}

// Registry answers "is this access key a canary?" for watch, scan and audit.
// The zero value (or nil) knows no canaries.
type Registry struct {
	byKey  map[string]Canary
	byUser map[string]Canary // account + "/" + user name
}

// Load reads every canary of the state database (those still being created
// or deleted included: their key may exist in IAM, so its use is an alert;
// deleted ones left out).
func Load(ctx context.Context, db Lister) (*Registry, error) {
	entries, err := listEntries(ctx, db)
	if err != nil {
		return nil, err
	}
	cs := make([]Canary, len(entries))
	for i, e := range entries {
		cs[i] = e.Canary
	}
	return NewRegistry(cs...), nil
}

// Entry is a canary as listed: its record and the step it reached.
type Entry struct {
	Canary Canary
	Step   string
	Open   bool
}

// listEntries reads the canaries of the state database, deleted ones left
// out, by name.
func listEntries(ctx context.Context, db Lister) ([]Entry, error) {
	recs, err := db.List(ctx, Kind, state.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read canaries: %w", err)
	}
	var out []Entry
	for _, r := range recs {
		if r.Step == StepDeleted {
			continue
		}
		c, err := FromRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Canary: c, Step: r.Step, Open: r.Open})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Canary.Name, b.Canary.Name) })
	return out, nil
}

// NewRegistry builds a registry from canaries (tests, the Lambda's config).
func NewRegistry(cs ...Canary) *Registry {
	r := &Registry{byKey: map[string]Canary{}, byUser: map[string]Canary{}}
	for _, c := range cs {
		if c.AccessKeyID != "" {
			r.byKey[c.AccessKeyID] = c
		}
		if c.User != "" {
			r.byUser[c.Account+"/"+c.User] = c
		}
	}
	return r
}

// ByKey returns the canary whose access key id is id.
func (r *Registry) ByKey(id string) (Canary, bool) {
	if r == nil {
		return Canary{}, false
	}
	c, ok := r.byKey[id]
	return c, ok
}

// ByUser returns the canary that is the IAM user name in account.
func (r *Registry) ByUser(account, user string) (Canary, bool) {
	if r == nil {
		return Canary{}, false
	}
	c, ok := r.byUser[account+"/"+user]
	return c, ok
}

// All returns the canaries sorted by name.
func (r *Registry) All() []Canary {
	if r == nil {
		return nil
	}
	out := make([]Canary, 0, len(r.byKey))
	for _, c := range r.byKey {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Len is how many canaries the registry knows.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.byKey)
}

// LoadExisting is Load from the state database at path ("" is the default
// place) when one exists there, else an empty registry: the read-only
// verbs (scan, audit) ask about canaries without ever creating a database.
func LoadExisting(ctx context.Context, path string, open func(string) (*state.DB, error)) (*Registry, error) {
	path, ok := state.Existing(path)
	if !ok {
		return NewRegistry(), nil
	}
	db, err := open(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return Load(ctx, db)
}
