package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/keywarden/keywarden/internal/detect"
)

// DefaultDedupWindow is how long an alert silences its repeats.
const DefaultDedupWindow = time.Hour

// CanaryDedupMax is the longest a canary alert silences its repeats,
// whatever --dedup says: a canary in use is reported at least hourly.
const CanaryDedupMax = time.Hour

// DedupNamespace holds one record per alert identity in detect.Store.
const DedupNamespace = "watch.dedup"

// Deduper drops an alert when the same rule already fired for the same
// access key, principal and resource (or API call) within the window. Its
// memory is a detect.Store, so a restarted `watch` or the next Lambda
// invocation does not repeat what an earlier one sent.
//
// Windows are measured in event time, not wall-clock time: re-reading the
// same logs after a restart then dedups the same way, and an old log file
// read today does not silence today's alerts. Alerts without an event time
// use Now.
type Deduper struct {
	store  detect.Store
	window time.Duration
	// Now is the clock for alerts with no event time; tests replace it.
	Now func() time.Time

	mu sync.Mutex
}

// NewDeduper dedups through store; window <= 0 means DefaultDedupWindow.
func NewDeduper(store detect.Store, window time.Duration) *Deduper {
	if window <= 0 {
		window = DefaultDedupWindow
	}
	return &Deduper{store: store, window: window, Now: time.Now}
}

// dedupRecord is the stored value: when the current window opened.
type dedupRecord struct {
	Start time.Time `json:"start"`
}

// Filter returns the alerts not seen within the window, in order, and
// records them as seen. It satisfies the pipeline's AlertFilter. If they
// then cannot be delivered, call Forget so that they are raised again.
func (d *Deduper) Filter(ctx context.Context, alerts []detect.Alert) ([]detect.Alert, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var fresh []detect.Alert
	for _, a := range alerts {
		key := DedupKey(a)
		at := d.alertTime(a)
		window := d.window
		if a.Rule == detect.CanaryRule.ID {
			window = min(window, CanaryDedupMax)
		}
		raw, ok, err := d.store.Get(ctx, DedupNamespace, key)
		if err != nil {
			return nil, fmt.Errorf("read dedup state for %s: %w", a.Rule, err)
		}
		var rec dedupRecord
		// An unreadable or forgotten record counts as unseen: sending an
		// alert twice is better than never.
		if ok && len(raw) > 0 && json.Unmarshal(raw, &rec) == nil && !rec.Start.IsZero() &&
			absDuration(at.Sub(rec.Start)) < window {
			continue
		}
		b, err := json.Marshal(dedupRecord{Start: at.UTC()})
		if err != nil {
			return nil, fmt.Errorf("encode dedup state: %w", err)
		}
		if err := d.store.Put(ctx, DedupNamespace, key, b); err != nil {
			return nil, fmt.Errorf("write dedup state for %s: %w", a.Rule, err)
		}
		fresh = append(fresh, a)
	}
	return fresh, nil
}

// Forget undoes Filter's record of alerts that were not delivered, so the
// next time their events are read they raise them again.
func (d *Deduper) Forget(ctx context.Context, alerts []detect.Alert) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range alerts {
		// detect.Store has no delete: an empty value reads as unseen.
		if err := d.store.Put(ctx, DedupNamespace, DedupKey(a), nil); err != nil {
			return fmt.Errorf("forget dedup state for %s: %w", a.Rule, err)
		}
	}
	return nil
}

func (d *Deduper) alertTime(a detect.Alert) time.Time {
	if !a.EventTime.IsZero() {
		return a.EventTime
	}
	return d.Now()
}

// DedupKey is an alert's identity: rule, access key, principal, and the
// resource it names (details "resource") or else the API call. Two alerts
// with the same key are the same red flag.
func DedupKey(a detect.Alert) string {
	resource, _ := a.Details["resource"].(string)
	if resource == "" {
		// What the rule saw ("user u1 created") tells two findings of one
		// call apart; a rule that says nothing is deduped by call.
		detail, _ := a.Details["detail"].(string)
		resource = a.EventSource + "/" + a.EventName + "/" + detail
	}
	// Hashed: the parts are attacker-influenced and of any length, and
	// store keys should be short and plain. The separator cannot occur in
	// the JSON-quoted parts, so distinct tuples never collide by joining.
	parts := []string{a.Rule, a.AccessKeyID, a.Principal, resource}
	b, _ := json.Marshal(parts)
	return strings.ToLower(field(truncate(a.Rule, 64))) + "/" + digest(b)[:32]
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
