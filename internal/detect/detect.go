// Package detect turns CloudTrail events into alerts: the built-in red-flag
// rules and stateful detectors (bursts, per-key baselines), and the Alert,
// Detector and Store every detector shares. watch runs them over a stream
// of events, together with the user rules internal/rulelang compiles;
// respond uses the per-event rules to mark red flags in a key's history.
package detect

import (
	"context"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// Alert is one alert, as docs/formats.md's "Watch alert fields" describes its JSON.
type Alert struct {
	Rule        string         `json:"rule"`
	Severity    severity.Level `json:"severity"`
	Title       string         `json:"title"`
	Technique   string         `json:"technique"`
	Stratus     []string       `json:"stratus,omitempty"`
	EventID     string         `json:"event_id"`
	EventTime   time.Time      `json:"event_time"`
	EventSource string         `json:"event_source"`
	EventName   string         `json:"event_name"`
	AccountID   string         `json:"account_id"`
	Region      string         `json:"region"`
	AccessKeyID string         `json:"access_key_id"`
	Principal   string         `json:"principal"`
	SourceIP    string         `json:"source_ip"`
	UserAgent   string         `json:"user_agent"`
	Details     map[string]any `json:"details"`
}

// NewAlert fills an alert's event fields from e.
func NewAlert(rule, title, technique string, sev severity.Level, e *cloudtrail.Event) Alert {
	acct := e.RecipientAccountID
	if acct == "" {
		acct = e.UserIdentity.AccountID
	}
	return Alert{Rule: rule, Severity: sev, Title: title, Technique: technique,
		EventID: e.EventID, EventTime: e.EventTime, EventSource: e.EventSource, EventName: e.EventName,
		AccountID: acct, Region: e.AWSRegion, AccessKeyID: e.UserIdentity.AccessKeyID, Principal: e.UserIdentity.ARN,
		SourceIP: e.SourceIPAddress, UserAgent: e.UserAgent, Details: map[string]any{}}
}

// Detector judges events one at a time, in time order. Stateful detectors
// (thresholds, baselines) keep what they learn in a Store.
//
// e is read only, in Observe and in every rule, filter and helper it is
// handed on to: a record is half a kilobyte, so one event is shared by
// every detector and rule rather than copied for each.
type Detector interface {
	Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error)
}

// Store keeps detectors' state between runs: SQLite locally (internal/state),
// DynamoDB in Lambda. Values are opaque bytes; namespaces separate users.
type Store interface {
	Get(ctx context.Context, namespace, key string) ([]byte, bool, error)
	Put(ctx context.Context, namespace, key string, value []byte) error
}
