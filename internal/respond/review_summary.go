package respond

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// SummaryTopN is how many entries each Summary list keeps.
const SummaryTopN = 20

// Count is one value of a summarised field and how often it occurred.
type Count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Summary is the shape of a key's activity. Each list is sorted by count,
// then value, so two runs over the same events print the same report.
type Summary struct {
	Events     int       `json:"events"`
	First      time.Time `json:"first,omitzero"` // the exposure window opens here...
	Last       time.Time `json:"last,omitzero"`  // ...and is last seen open here
	Errors     int       `json:"errors"`         // events with an error code
	Services   []Count   `json:"services"`
	Actions    []Count   `json:"actions"`
	Regions    []Count   `json:"regions"`
	SourceIPs  []Count   `json:"source_ips"`
	UserAgents []Count   `json:"user_agents"`
	ErrorCodes []Count   `json:"error_codes"`
	Keys       []Count   `json:"keys"` // the exposed key and the keys it minted
}

// Window is how long the key was seen in use (Last - First).
func (s Summary) Window() time.Duration { return s.Last.Sub(s.First) }

// Summarize counts events by service, action, region, source IP, user
// agent, error code and key, keeping the top SummaryTopN of each.
func Summarize(events []cloudtrail.Event) Summary {
	fields := []func(cloudtrail.Event) string{
		func(e cloudtrail.Event) string { return e.EventSource },
		func(e cloudtrail.Event) string { return action(e) },
		func(e cloudtrail.Event) string { return e.AWSRegion },
		func(e cloudtrail.Event) string { return e.SourceIPAddress },
		func(e cloudtrail.Event) string { return e.UserAgent },
		func(e cloudtrail.Event) string { return e.ErrorCode },
		func(e cloudtrail.Event) string { return e.UserIdentity.AccessKeyID },
	}
	counts := make([]map[string]int, len(fields))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	s := Summary{Events: len(events)}
	for _, e := range events {
		if !e.EventTime.IsZero() {
			if s.First.IsZero() || e.EventTime.Before(s.First) {
				s.First = e.EventTime
			}
			if e.EventTime.After(s.Last) {
				s.Last = e.EventTime
			}
		}
		if e.ErrorCode != "" {
			s.Errors++
		}
		for i, f := range fields {
			if v := f(e); v != "" {
				counts[i][v]++
			}
		}
	}
	s.Services, s.Actions, s.Regions = top(counts[0]), top(counts[1]), top(counts[2])
	s.SourceIPs, s.UserAgents, s.ErrorCodes, s.Keys = top(counts[3]), top(counts[4]), top(counts[5]), top(counts[6])
	return s
}

// top sorts by count descending, then value ascending, and keeps SummaryTopN.
func top(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for v, n := range m {
		out = append(out, Count{v, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	if len(out) > SummaryTopN {
		out = out[:SummaryTopN]
	}
	return out
}

// action names a call the way IAM policies do: "iam:CreateUser".
func action(e cloudtrail.Event) string {
	if e.EventName == "" {
		return ""
	}
	svc := strings.TrimSuffix(e.EventSource, ".amazonaws.com")
	if svc == "" {
		return e.EventName
	}
	return svc + ":" + e.EventName
}
