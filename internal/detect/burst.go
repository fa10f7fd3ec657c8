package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// Burst raises Rule's alert when one key makes Count matching calls
// (or calls with Count distinct values of Distinct) within Window. After
// an alert the window starts afresh, so a long attack yields one alert per
// burst rather than one per event. State lives in a write-back cache that
// reaches Store on Flush.
type Burst struct {
	Rule     Rule // metadata; Rule.Match is not used
	Filter   func(e *cloudtrail.Event) bool
	Distinct func(e *cloudtrail.Event) string // nil: count events
	// Group names the window an event counts in; nil: KeyOf (one window a
	// key). "" leaves the event out.
	Group  func(e *cloudtrail.Event) string
	Count  int
	Window time.Duration
	Store  Store
	// Then makes the burst a sequence: the events Filter accepts only fill
	// the window, each with its Kind, and an event for which Then returns
	// a test raises the alert when the kinds in the window pass it.
	Then func(e *cloudtrail.Event) (enough func(kinds []string) bool)
	Kind func(e *cloudtrail.Event) string
	// Step says what a sequence's last step did, for the alert's detail.
	Step func(e *cloudtrail.Event) string
	// Once alerts on a key's first burst only: after it, the key is known
	// to do this, and its window keeps only that fact.
	Once bool
	// Keep leaves a sequence's window as it is after an alert: the window
	// holds a standing fact (a group granted administrator), not a burst.
	Keep bool

	cache map[string]*window
	dirty map[string]bool
}

// window is one key's recent matching calls, oldest first.
type window struct {
	T    []int64  `json:"t"`              // unix nanoseconds
	V    []string `json:"v,omitempty"`    // Distinct values or kinds, parallel to T
	Done bool     `json:"done,omitempty"` // a Once burst that has alerted
}

const (
	maxWindowEntries = 10000 // a distinct-count window keeps at most this many calls
	maxCachedKeys    = 50000 // beyond this the cache is flushed and dropped
)

// Observe counts e if it matches and reports a burst it completes.
func (b *Burst) Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error) {
	key := KeyOf(e)
	if (key == "" && b.Group == nil) || e.EventTime.IsZero() {
		return nil, nil
	}
	var enough func([]string) bool
	if b.Then != nil {
		enough = b.Then(e)
	}
	if enough == nil && !b.Filter(e) {
		return nil, nil
	}
	if b.Group != nil {
		if key = b.Group(e); key == "" {
			return nil, nil
		}
	}
	w, err := b.load(ctx, key)
	if err != nil || w.Done {
		return nil, err
	}
	now := e.EventTime.UnixNano()
	drop := 0
	for drop < len(w.T) && now-w.T[drop] > int64(b.Window) {
		drop++
	}
	if over := len(w.T) - drop + 1 - maxWindowEntries; over > 0 {
		drop += over
	}
	w.T = w.T[drop:]
	if b.Distinct != nil || b.Kind != nil {
		w.V = w.V[drop:]
	}
	b.dirty[key] = true
	var n int
	if enough != nil {
		// A sequence's last step is judged on what came before it.
		if n = len(w.T); n == 0 || !enough(w.V) {
			return nil, nil
		}
	} else {
		switch {
		case b.Distinct != nil:
			w.V = append(w.V, b.Distinct(e))
		case b.Kind != nil:
			w.V = append(w.V, b.Kind(e))
		}
		w.T = append(w.T, now)
		if n = b.count(w); n < b.Count || b.Then != nil {
			return nil, nil
		}
	}
	since := time.Unix(0, w.T[0]).UTC().Format(time.RFC3339)
	if !b.Keep {
		*w = window{Done: b.Once}
	}
	detail := fmt.Sprintf("%d within %s since %s", n, b.Window, since)
	if enough != nil && b.Step != nil {
		detail = fmt.Sprintf("%s, after %d calls since %s", b.Step(e), n, since)
	}
	a := b.Rule.Alert(e, detail)
	a.Details["count"], a.Details["window"], a.Details["since"] = n, b.Window.String(), since
	return []Alert{a}, nil
}

func (b *Burst) count(w *window) int {
	if b.Distinct == nil {
		return len(w.T)
	}
	seen := make(map[string]struct{}, len(w.V))
	for _, v := range w.V {
		seen[v] = struct{}{}
	}
	return len(seen)
}

func (b *Burst) namespace() string { return "threshold/" + b.Rule.ID }

func (b *Burst) load(ctx context.Context, key string) (*window, error) {
	if b.cache == nil || len(b.cache) >= maxCachedKeys {
		if err := b.Flush(ctx); err != nil {
			return nil, err
		}
		b.cache, b.dirty = map[string]*window{}, map[string]bool{}
	}
	if w, ok := b.cache[key]; ok {
		return w, nil
	}
	w := &window{}
	if b.Store != nil {
		raw, ok, err := b.Store.Get(ctx, b.namespace(), key)
		if err != nil {
			return nil, fmt.Errorf("load %s window of %s: %w", b.Rule.ID, key, err)
		}
		// A corrupt value is dropped: the window refills from new events.
		if ok && (json.Unmarshal(raw, w) != nil || ((b.Distinct != nil || b.Kind != nil) && len(w.V) != len(w.T))) {
			*w = window{}
		}
	}
	b.cache[key] = w
	return w, nil
}

// Flush writes the windows changed since the last Flush.
func (b *Burst) Flush(ctx context.Context) error {
	if b.Store == nil {
		clear(b.dirty)
		return nil
	}
	for key := range b.dirty {
		raw, err := json.Marshal(b.cache[key])
		if err != nil {
			return fmt.Errorf("encode %s window: %w", b.Rule.ID, err)
		}
		if err := b.Store.Put(ctx, b.namespace(), key, raw); err != nil {
			return fmt.Errorf("save %s window of %s: %w", b.Rule.ID, key, err)
		}
		delete(b.dirty, key)
	}
	return nil
}

// Denied reports an error code that means the caller lacked permission.
func Denied(code string) bool {
	return strings.Contains(code, "AccessDenied") || strings.Contains(code, "UnauthorizedOperation") ||
		code == "UnauthorizedAccess"
}

// AccessDeniedBurst: a stolen key is tried against many services to learn
// what it may do, leaving a trail of denials: 10 within 10 minutes.
func AccessDeniedBurst(s Store) *Burst {
	return &Burst{Rule: Rule{ID: "KW-CT-ACCESS-DENIED-BURST", Severity: severity.High,
		Title: "many access-denied errors in a short time", Technique: "T1580",
		Description: "A key probing what it may do collects denials in a burst.",
		Remediation: rotateHint},
		Filter: func(e *cloudtrail.Event) bool { return Denied(e.ErrorCode) },
		Count:  10, Window: 10 * time.Minute, Store: s}
}

// ReconBurst: 50 List*/Describe* calls by one key within 5 minutes, the
// shape of enumeration tools. Console browsing and AWS's own calls are
// left out: the console issues Describe calls for every page it draws.
func ReconBurst(s Store) *Burst {
	var families familyCache
	return &Burst{Rule: Rule{ID: "KW-CT-RECON-BURST", Severity: severity.Medium,
		Title: "burst of List and Describe calls", Technique: "T1580",
		Description: "Enumeration tools (pacu, cloudfox, scoutsuite) list everything in minutes.",
		Remediation: "Confirm the caller runs an inventory tool; otherwise contain the key."},
		Filter: func(e *cloudtrail.Event) bool {
			return (strings.HasPrefix(e.EventName, "List") || strings.HasPrefix(e.EventName, "Describe")) &&
				!byAWSService(e) && families.family(e.UserAgent) != "console"
		},
		Count: 50, Window: 5 * time.Minute, Store: s}
}

// SecretsBurst: one key reading 5 different secrets or parameter sets
// within 10 minutes. An application rereads the same few secrets; a
// thief takes them all. GetParameter(s) count only with decryption, and
// a call's distinct value is what it read (its names or its filters).
func SecretsBurst(s Store) *Burst {
	return &Burst{Rule: Rule{ID: "KW-CT-SECRETS-BURST", Severity: severity.High,
		Title: "many secrets read in a short time", Technique: "T1555.006",
		Stratus: []string{"aws.credential-access.secretsmanager-retrieve-secrets",
			"aws.credential-access.ssm-retrieve-securestring-parameters"},
		Description: "Secrets Manager values or SecureString parameters read in bulk by one key.",
		Remediation: "Rotate the secrets that were read, then contain the key."},
		Filter:   secretRead,
		Distinct: func(e *cloudtrail.Event) string { return string(e.RequestParameters) },
		Count:    5, Window: 10 * time.Minute, Store: s}
}

func secretRead(e *cloudtrail.Event) bool {
	if !succeeded(e) || byAWSService(e) {
		return false
	}
	switch {
	case is(e, "secretsmanager.amazonaws.com", "GetSecretValue"):
		return true
	case is(e, "ssm.amazonaws.com", "GetParameter", "GetParameters", "GetParametersByPath"):
		return Get(Object(e.RequestParameters), "withDecryption") == true
	}
	return false
}

var sesSends = []string{"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkEmail", "SendBulkTemplatedEmail"}

// SESVolume fires when one key sends more than perHour mails (SES data
// events, logged only where a trail records them) within an hour.
func SESVolume(s Store, perHour int) *Burst {
	return &Burst{Rule: Rule{ID: "KW-CT-SES-SEND-VOLUME", Severity: severity.High,
		Title: "high SES sending volume from one key", Technique: "T1496",
		Description: "Stolen keys are sold for spam: tens of thousands of mails a day through SES.",
		Remediation: "Disable sending (aws ses update-account-sending-enabled --no-enabled) and contain the key."},
		Filter: func(e *cloudtrail.Event) bool { return is(e, "ses.amazonaws.com", sesSends...) && succeeded(e) },
		Count:  perHour + 1, Window: time.Hour, Store: s}
}
