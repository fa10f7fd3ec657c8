package respond

import (
	"context"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

// FlagEvent names the record a flag was raised on.
type FlagEvent struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Name   string    `json:"name"`
	Source string    `json:"source"`
	Key    string    `json:"key"` // userIdentity.accessKeyId
}

// Flag is one red flag: a call that attackers with a stolen key make.
type Flag struct {
	Rule      string         `json:"rule"`
	Severity  severity.Level `json:"severity"`
	Title     string         `json:"title"`
	Technique string         `json:"technique"` // MITRE ATT&CK id
	Event     FlagEvent      `json:"event"`
	Detail    string         `json:"detail,omitempty"`
}

// Rule is one entry of the red-flag catalogue. IDs are stable: the watch
// issue extends this table and users suppress rules by id.
type Rule struct {
	ID        string
	Severity  severity.Level
	Title     string
	Technique string
	// Match judges one event; detail says what in it made the rule fire.
	Match func(e *cloudtrail.Event, req, resp map[string]any) (detail string, ok bool)
}

// Rules is the per-event catalogue, in the order flags are reported for
// one event: detect's built-in rules, which watch raises as alerts.
var Rules = fromDetect(detect.Rules())

// burstRule is the access-denied burst, which needs many events.
var burstRule = fromDetect([]detect.Rule{detect.AccessDeniedBurst(nil).Rule})[0]

func fromDetect(rs []detect.Rule) []Rule {
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = Rule{ID: r.ID, Severity: r.Severity, Title: r.Title, Technique: r.Technique, Match: r.Match}
	}
	return out
}

// RedFlags runs every rule over events and returns the flags ordered by
// event time, then by rule order.
func RedFlags(events []cloudtrail.Event) []Flag {
	var out []Flag
	for i := range events {
		e := &events[i]
		req, resp := object(e.RequestParameters), object(e.ResponseElements)
		for _, r := range Rules {
			if d, ok := r.Match(e, req, resp); ok {
				out = append(out, r.flag(e, d))
			}
		}
	}
	out = append(out, accessDeniedBursts(events)...)
	slices.SortStableFunc(out, func(a, b Flag) int { return a.Event.At.Compare(b.Event.At) })
	return out
}

// accessDeniedBursts runs detect's burst detector over events in time
// order, with state that lives only for this review.
func accessDeniedBursts(events []cloudtrail.Event) []Flag {
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b cloudtrail.Event) int { return a.EventTime.Compare(b.EventTime) })
	burst := detect.AccessDeniedBurst(nil)
	var out []Flag
	for i := range sorted {
		e := &sorted[i]
		alerts, _ := burst.Observe(context.Background(), e) // without a Store it cannot fail, nor wait
		for _, a := range alerts {
			d, _ := a.Details["detail"].(string)
			out = append(out, burstRule.flag(e, d))
		}
	}
	return out
}

func (r Rule) flag(e *cloudtrail.Event, detail string) Flag {
	return Flag{Rule: r.ID, Severity: r.Severity, Title: r.Title, Technique: r.Technique, Detail: detail,
		Event: FlagEvent{ID: e.EventID, At: e.EventTime, Name: e.EventName, Source: e.EventSource, Key: e.UserIdentity.AccessKeyID}}
}
