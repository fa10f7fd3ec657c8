package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/gap"
)

// SeenNamespace is where watch's canary rule records, per canary key id,
// the newest CloudTrail event of the key it alerted on: the check matches a
// moved last-used date against it, so a call CloudTrail logged is not
// reported a second time as unlogged.
const SeenNamespace = "canary.seen"

// Seen is the value kept under SeenNamespace.
type Seen struct {
	At    time.Time `json:"at"`    // the event's time
	Event string    `json:"event"` // eventSource:eventName
}

// Store is the key-value store the canary rule and the check share: the
// state database locally, the DynamoDB table in Lambda (detect.Store's
// method set).
type Store interface {
	Get(ctx context.Context, namespace, key string) ([]byte, bool, error)
	Put(ctx context.Context, namespace, key string, value []byte) error
}

// MarkSeen records that watch alerted on an event of key at, keeping the newest.
func MarkSeen(ctx context.Context, st Store, key string, s Seen) error {
	old, ok, err := LastSeen(ctx, st, key)
	if err != nil {
		return err
	}
	if ok && !s.At.After(old.At) {
		return nil
	}
	b, err := json.Marshal(Seen{At: s.At.UTC(), Event: s.Event})
	if err != nil {
		return fmt.Errorf("encode canary event: %w", err)
	}
	if err := st.Put(ctx, SeenNamespace, key, b); err != nil {
		return fmt.Errorf("record canary event of %s: %w", key, err)
	}
	return nil
}

// LastSeen is the newest event of key watch alerted on.
func LastSeen(ctx context.Context, st Store, key string) (Seen, bool, error) {
	raw, ok, err := st.Get(ctx, SeenNamespace, key)
	if err != nil {
		return Seen{}, false, fmt.Errorf("read canary events of %s: %w", key, err)
	}
	var s Seen
	if !ok || len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return Seen{}, false, nil // unreadable counts as unseen: an alert too many beats one missed
	}
	return s, true, nil
}

// LastUse is what IAM's GetAccessKeyLastUsed says of a key; At is zero
// when the key was never used.
type LastUse struct {
	At      time.Time
	Service string
	Region  string
}

// LastUsedReader reads a key's last use: canaryaws.LastUsed with the SDK.
type LastUsedReader interface {
	LastUsed(ctx context.Context, keyID string) (LastUse, error)
}

// Status is the verdict of one canary's check.
type Status string

const (
	Quiet      Status = "quiet"      // last-used did not move
	Unlogged   Status = "unlogged"   // it moved and watch saw no CloudTrail event of it: alert
	Alerted    Status = "alerted"    // it moved, and watch alerted on the CloudTrail event
	Pending    Status = "pending"    // it moved within Grace: CloudTrail may not have delivered yet
	Unreadable Status = "unreadable" // GetAccessKeyLastUsed failed
)

// CheckResult is one canary's check.
type CheckResult struct {
	Canary   Canary    `json:"-"`
	Name     string    `json:"name"`
	KeyID    string    `json:"access_key_id"`
	Where    string    `json:"planted"`
	Status   Status    `json:"status"`
	Before   time.Time `json:"before,omitzero"`    // the baseline
	LastUsed time.Time `json:"last_used,omitzero"` // what IAM says now
	Service  string    `json:"service,omitempty"`
	Region   string    `json:"region,omitempty"`
	Event    string    `json:"event,omitempty"` // Alerted: the event watch alerted on
	Reason   string    `json:"reason,omitempty"`
}

// Check is one pass of the unlogged-call channel.
type Check struct {
	IAM  LastUsedReader
	Seen Store // where watch records the canary events it alerted on
	// Grace is how long a move stays Pending before it counts as unlogged:
	// CloudTrail delivers log files within about 15 minutes of the call
	// (DefaultGrace); 0 reports every unmatched move at once.
	Grace time.Duration
	// Slack is how far before the last-used date an event watch saw still
	// matches it (IAM rounds and delays the date); 0: DefaultSlack.
	Slack time.Duration
	Now   func() time.Time
}

// DefaultGrace and DefaultSlack are Check's defaults.
const (
	DefaultGrace = 15 * time.Minute
	DefaultSlack = 5 * time.Minute
)

// Report is a check of every canary; Changed are the canaries whose
// baseline moved, to be saved.
type Report struct {
	Results []CheckResult `json:"canaries"`
	Gaps    []gap.Gap     `json:"incomplete,omitempty"`
	Changed []Canary      `json:"-"`
}

// Alerts is how many canaries were used by an unlogged call.
func (r Report) Alerts() int {
	n := 0
	for _, res := range r.Results {
		if res.Status == Unlogged {
			n++
		}
	}
	return n
}

// Run checks each canary with one GetAccessKeyLastUsed call: it compares
// IAM's last-used date with the canary's baseline (LastUsed) and, when it
// moved, with the newest event watch alerted on. A canary that could not
// be read is a gap; only a failure of the seen store is an error.
func (c Check) Run(ctx context.Context, canaries []Canary) (Report, error) {
	now, grace, slack := c.Now, c.Grace, c.Slack
	if now == nil {
		now = time.Now
	}
	if slack == 0 {
		slack = DefaultSlack
	}
	var rep Report
	for _, cn := range canaries {
		res := CheckResult{Canary: cn, Name: cn.Name, KeyID: cn.AccessKeyID, Where: cn.Where(), Before: cn.LastUsed}
		use, err := c.IAM.LastUsed(ctx, cn.AccessKeyID)
		if err != nil {
			res.Status, res.Reason = Unreadable, err.Error()
			rep.Gaps = append(rep.Gaps, gap.Gap{Source: "canary " + cn.Name, Reason: err.Error()})
			rep.Results = append(rep.Results, res)
			continue
		}
		res.LastUsed, res.Service, res.Region = use.At, use.Service, use.Region
		if use.At.IsZero() || !use.At.After(cn.LastUsed) {
			res.Status = Quiet
			rep.Results = append(rep.Results, res)
			continue
		}
		seen, ok, err := LastSeen(ctx, c.Seen, cn.AccessKeyID)
		if err != nil {
			return Report{}, err
		}
		switch {
		case ok && !seen.At.Before(use.At.Add(-slack)):
			res.Status, res.Event = Alerted, seen.Event
		case now().Sub(use.At) < grace:
			res.Status = Pending // the baseline stays: the next check decides
		default:
			res.Status = Unlogged
		}
		if res.Status != Pending {
			cn.LastUsed = use.At
			rep.Changed = append(rep.Changed, cn)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}
