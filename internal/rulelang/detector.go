package rulelang

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
)

// Detector runs user rules (keywarden YAML and Sigma) as one
// detect.Detector: each event's raw record is decoded at most once for all
// of them.
type Detector struct {
	rules []*Rule
	store detect.Store
}

var _ detect.Detector = (*Detector)(nil)

// NewDetector returns a Detector for rules. Threshold state lives in
// store; nil keeps it in memory for this run only.
func NewDetector(rules []*Rule, store detect.Store) *Detector {
	if store == nil {
		store = &detect.MemStore{}
	}
	return &Detector{rules: rules, store: store}
}

// Observe implements detect.Detector.
func (d *Detector) Observe(ctx context.Context, e *cloudtrail.Event) ([]detect.Alert, error) {
	rec := newRecord(e)
	var out []detect.Alert
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

func (r *Rule) alert(e *cloudtrail.Event) detect.Alert {
	a := detect.NewAlert(r.ID, r.Title, r.Technique, r.Severity, e)
	if r.Description != "" {
		a.Details["description"] = strings.TrimSpace(r.Description)
	}
	a.Details["rule_source"] = r.Source
	return a
}

// windowState is a group's threshold state. For counts, Times holds the
// times of the latest matches (at most Count of them); for distinct counts,
// Values holds each distinct value's latest time (at most Count values), so
// state stays bounded however many events match.
type windowState struct {
	Times  []int64          `json:"t,omitempty"`
	Values map[string]int64 `json:"v,omitempty"`
}

// storeNamespace separates user rules' state from other detectors'. It
// names the package the rules lived in when the namespace was chosen; state
// databases hold it, so it stays.
const storeNamespace = "detect.userrules"

// threshold records one match in its group and reports whether the group
// reached the threshold within the window; reaching it resets the group so
// one burst raises one alert.
func (d *Detector) threshold(ctx context.Context, r *Rule, rec *record, e *cloudtrail.Event) (detect.Alert, bool, error) {
	t := r.Threshold
	group := ""
	if t.By != "" {
		vals, _ := rec.values(t.By)
		group = strings.Join(vals, ",")
	}
	key := r.ID + "\x00" + group
	var st windowState
	raw, ok, err := d.store.Get(ctx, storeNamespace, key)
	if err != nil {
		return detect.Alert{}, false, fmt.Errorf("rule %s: read threshold state: %w", r.ID, err)
	}
	if ok && json.Unmarshal(raw, &st) != nil {
		st = windowState{} // unreadable state is forgotten, not fatal
	}
	now := e.EventTime.UnixNano()
	oldest := now - int64(t.Window)
	n := st.add(t, rec, now, oldest)
	fired := n >= t.Count
	if fired {
		st = windowState{}
	}
	raw, err = json.Marshal(st)
	if err == nil {
		err = d.store.Put(ctx, storeNamespace, key, raw)
	}
	if err != nil {
		return detect.Alert{}, false, fmt.Errorf("rule %s: save threshold state: %w", r.ID, err)
	}
	if !fired {
		return detect.Alert{}, false, nil
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
func (st *windowState) add(t *Threshold, rec *record, now, oldest int64) int {
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
func (st *windowState) trim(count int) {
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
