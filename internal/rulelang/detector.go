package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// UserRules runs user rules (keywarden YAML and Sigma) as one Detector:
// each event's raw record is decoded at most once for all of them.
type UserRules struct {
	rules []*UserRule
	store Store
}

// NewUserRules returns a Detector for rules. Threshold state lives in
// store; nil keeps it in memory for this run only.
func NewUserRules(rules []*UserRule, store Store) *UserRules {
	if store == nil {
		store = &urMemStore{m: map[string][]byte{}}
	}
	return &UserRules{rules: rules, store: store}
}

// Rules returns the loaded rules.
func (d *UserRules) Rules() []*UserRule { return d.rules }

// Observe implements Detector.
func (d *UserRules) Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error) {
	rec := urNewRecord(e)
	var out []Alert
	for _, r := range d.rules {
		if !r.match.eval(rec) {
			continue
		}
		if r.Threshold == nil {
			out = append(out, r.alert(e))
			continue
		}
		a, fired, err := d.threshold(ctx, r, rec, e)
		if err != nil {
			return out, err
		}
		if fired {
			out = append(out, a)
		}
	}
	return out, nil
}

func (r *UserRule) alert(e *cloudtrail.Event) Alert {
	a := NewAlert(r.ID, r.Title, r.Technique, r.Severity, e)
	if r.Description != "" {
		a.Details["description"] = strings.TrimSpace(r.Description)
	}
	a.Details["rule_source"] = r.Source
	return a
}

// urWindowState is a group's threshold state. For counts, Times holds the
// times of the latest matches (at most Count of them); for distinct counts,
// Values holds each distinct value's latest time (at most Count values), so
// state stays bounded however many events match.
type urWindowState struct {
	Times  []int64          `json:"t,omitempty"`
	Values map[string]int64 `json:"v,omitempty"`
}

// urStoreNamespace separates user rules' state from other detectors'.
const urStoreNamespace = "detect.userrules"

// threshold records one match in its group and reports whether the group
// reached the threshold within the window; reaching it resets the group so
// one burst raises one alert.
func (d *UserRules) threshold(ctx context.Context, r *UserRule, rec *urRecord, e *cloudtrail.Event) (Alert, bool, error) {
	t := r.Threshold
	group := ""
	if t.By != "" {
		vals, _ := rec.values(t.By)
		group = strings.Join(vals, ",")
	}
	key := r.ID + "\x00" + group
	var st urWindowState
	raw, ok, err := d.store.Get(ctx, urStoreNamespace, key)
	if err != nil {
		return Alert{}, false, fmt.Errorf("rule %s: read threshold state: %w", r.ID, err)
	}
	if ok && json.Unmarshal(raw, &st) != nil {
		st = urWindowState{} // unreadable state is forgotten, not fatal
	}
	now := e.EventTime.UnixNano()
	oldest := now - int64(t.Window)
	n := st.add(t, rec, now, oldest)
	fired := n >= t.Count
	if fired {
		st = urWindowState{}
	}
	raw, err = json.Marshal(st)
	if err == nil {
		err = d.store.Put(ctx, urStoreNamespace, key, raw)
	}
	if err != nil {
		return Alert{}, false, fmt.Errorf("rule %s: save threshold state: %w", r.ID, err)
	}
	if !fired {
		return Alert{}, false, nil
	}
	a := r.alert(e)
	a.Details["group"] = group
	a.Details["count"] = n
	a.Details["window"] = t.Window.String()
	if t.Distinct != "" {
		a.Details["distinct"] = t.Distinct
	}
	return a, true, nil
}

// add records a match at now, drops what fell out of the window, and
// returns how many matches (or distinct values) the window holds.
func (st *urWindowState) add(t *Threshold, rec *urRecord, now, oldest int64) int {
	if t.Distinct == "" {
		kept := st.Times[:0]
		for _, ts := range st.Times {
			if ts >= oldest && ts <= now {
				kept = append(kept, ts)
			}
		}
		kept = append(kept, now)
		if len(kept) > t.Count {
			kept = kept[len(kept)-t.Count:]
		}
		st.Times = kept
		return len(kept)
	}
	if st.Values == nil {
		st.Values = map[string]int64{}
	}
	for v, ts := range st.Values {
		if ts < oldest || ts > now {
			delete(st.Values, v)
		}
	}
	vals, _ := rec.values(t.Distinct)
	for _, v := range vals {
		st.Values[v] = now
	}
	st.trim(t.Count)
	return len(st.Values)
}

// trim keeps the count most recently seen values.
func (st *urWindowState) trim(count int) {
	if len(st.Values) <= count {
		return
	}
	type seen struct {
		v  string
		ts int64
	}
	all := make([]seen, 0, len(st.Values))
	for v, ts := range st.Values {
		all = append(all, seen{v, ts})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ts > all[j].ts })
	for _, s := range all[count:] {
		delete(st.Values, s.v)
	}
}

// urMemStore is the Store of a run without --state.
type urMemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *urMemStore) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[ns+"\x00"+key]
	return v, ok, nil
}

func (s *urMemStore) Put(ctx context.Context, ns, key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[ns+"\x00"+key] = append([]byte(nil), v...)
	return nil
}
