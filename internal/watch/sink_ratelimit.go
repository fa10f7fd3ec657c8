package watch

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

// SuppressedRule is the rule of the summary alert a rate-limited sink sends
// in place of the alerts over its limit.
const SuppressedRule = "KW-WATCH-SUPPRESSED"

const rateWindow = time.Minute

// RateLimited passes at most PerMinute alerts a minute to its sink. The
// rest are counted per rule and, once the minute is over, reported in one
// summary alert ("N more alerts suppressed"), so a burst cannot flood a
// Slack channel or an on-call phone but is never silently lost either.
// Canary alerts always pass (they still count against the limit).
type RateLimited struct {
	inner     Sink
	perMinute int
	now       func() time.Time

	mu sync.Mutex
	st rateState
}

// rateState is copied before a Send and restored if the sink fails, so a
// failed batch neither uses up the limit nor loses its summary.
type rateState struct {
	start      time.Time // the current window's opening; zero before the first alert
	sent       int
	suppressed map[string]int // rule -> count
	total      int
	worst      severity.Level
}

func (s rateState) clone() rateState {
	s.suppressed = maps.Clone(s.suppressed)
	return s
}

// RateLimit wraps inner; now is the clock (time.Now when nil). perMinute
// <= 0 disables the limit.
func RateLimit(inner Sink, perMinute int, now func() time.Time) *RateLimited {
	if now == nil {
		now = time.Now
	}
	return &RateLimited{inner: inner, perMinute: perMinute, now: now}
}

// Send passes the alerts within the limit (after the summary of the
// previous minute, if one is due) to the sink. It keeps the sink's
// all-or-nothing contract: on error nothing is counted.
func (r *RateLimited) Send(ctx context.Context, alerts []detect.Alert) error {
	if r.perMinute <= 0 {
		return r.inner.Send(ctx, alerts)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	saved := r.st.clone()
	now := r.now()
	out := r.rollWindow(now)
	for _, a := range alerts {
		if r.st.start.IsZero() {
			r.st.start = now
		}
		if r.st.sent < r.perMinute || a.Rule == detect.CanaryRule.ID { // a canary is never held back
			r.st.sent++
			out = append(out, a)
			continue
		}
		r.suppress(a)
	}
	return r.deliver(ctx, out, saved)
}

// Flush sends the summary of a finished minute; a --follow loop calls it
// between polls so a burst is reported even if no alert follows it.
func (r *RateLimited) Flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	saved := r.st.clone()
	return r.deliver(ctx, r.rollWindow(r.now()), saved)
}

// Close sends any pending summary, the minute over or not, then closes the
// sink.
func (r *RateLimited) Close() error {
	r.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if r.st.total > 0 {
		saved := r.st.clone()
		err = r.deliver(ctx, []detect.Alert{r.summary(r.now())}, saved)
	}
	r.mu.Unlock()
	if cerr := r.inner.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *RateLimited) deliver(ctx context.Context, out []detect.Alert, saved rateState) error {
	if len(out) == 0 {
		return nil
	}
	if err := r.inner.Send(ctx, out); err != nil {
		r.st = saved
		return err
	}
	return nil
}

// rollWindow opens a new window when the current one is over, returning
// the summary of what it suppressed.
func (r *RateLimited) rollWindow(now time.Time) []detect.Alert {
	if r.st.start.IsZero() || now.Sub(r.st.start) < rateWindow {
		return nil
	}
	var out []detect.Alert
	if r.st.total > 0 {
		out = append(out, r.summary(now))
	}
	r.st = rateState{start: now}
	return out
}

func (r *RateLimited) suppress(a detect.Alert) {
	if r.st.suppressed == nil {
		r.st.suppressed = map[string]int{}
	}
	if r.st.total == 0 || a.Severity > r.st.worst {
		r.st.worst = a.Severity
	}
	r.st.suppressed[a.Rule]++
	r.st.total++
}

// summary reports the suppressed alerts, at the severity of the worst of
// them so --fail-on and severity filters still see it; it clears them.
func (r *RateLimited) summary(now time.Time) detect.Alert {
	a := detect.Alert{
		Rule:      SuppressedRule,
		Severity:  r.st.worst,
		Title:     fmt.Sprintf("%d more alerts suppressed (rate limit %d per minute)", r.st.total, r.perMinute),
		EventTime: now.UTC(),
		Details: map[string]any{
			"suppressed":   r.st.total,
			"by_rule":      r.st.suppressed,
			"window_start": r.st.start.UTC().Format(time.RFC3339),
		},
	}
	r.st.total, r.st.suppressed, r.st.worst = 0, nil, severity.Info
	return a
}
