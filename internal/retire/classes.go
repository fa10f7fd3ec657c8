package retire

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/state"
)

// ClassKind is the state record retire plan saves per key: its class, so
// audit (which reads IAM, not CloudTrail) can say which keys retire can
// replace. No secret: the key id, its user, its class.
const ClassKind = "retire-class"

// SavedClass is one key's class as the last plan found it.
type SavedClass struct {
	AccessKeyID string    `json:"access_key_id"`
	User        string    `json:"user"`
	Account     string    `json:"account,omitempty"`
	Class       Class     `json:"class"`
	Replacement string    `json:"replacement,omitempty"` // the Replace* kind; empty for mixed and unknown
	Events      int       `json:"events"`
	Since       time.Time `json:"since"`
	Until       time.Time `json:"until"`
}

// Putter is the part of the state database SaveClasses writes.
type Putter interface {
	Put(ctx context.Context, r state.Record) error
}

// Lister is the part of the state database LoadClasses reads.
type Lister interface {
	List(ctx context.Context, kind string, f state.Filter) ([]state.Record, error)
}

// SaveClasses records each key's class (one record per key, the latest
// plan's replacing an earlier one).
func SaveClasses(ctx context.Context, db Putter, p Plan) error {
	for _, k := range p.Keys {
		c := SavedClass{AccessKeyID: k.AccessKeyID, User: k.User, Account: k.Account, Class: k.Class,
			Replacement: k.Replacement.Kind, Events: k.Events, Since: p.Since, Until: p.Until}
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode the class of %s: %w", k.AccessKeyID, err)
		}
		r := state.Record{Kind: ClassKind, ID: ClassKind + "-" + k.AccessKeyID, Subject: k.AccessKeyID, Step: string(k.Class), Data: data}
		if err := db.Put(ctx, r); err != nil {
			return fmt.Errorf("save the class of %s: %w", k.AccessKeyID, err)
		}
	}
	return nil
}

// LoadClasses is every saved class by access key id.
func LoadClasses(ctx context.Context, db Lister) (map[string]SavedClass, error) {
	recs, err := db.List(ctx, ClassKind, state.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read retire plan's classes: %w", err)
	}
	out := map[string]SavedClass{}
	for _, r := range recs {
		var c SavedClass
		if err := json.Unmarshal(r.Data, &c); err != nil {
			return nil, fmt.Errorf("decode the class of %s: %w", r.Subject, err)
		}
		out[c.AccessKeyID] = c
	}
	return out, nil
}
