package respond

import (
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// CreatedResource is something the key (or a key it minted) made or changed
// that outlives the key: the cleanup checklist of the report.
type CreatedResource struct {
	Kind    string    `json:"kind"` // iam-user, access-key, login-profile, ec2-instance, trail-stopped, ...
	ID      string    `json:"id"`
	ARN     string    `json:"arn,omitempty"`
	Region  string    `json:"region,omitempty"`
	Event   string    `json:"event"` // eventID of the call that created it
	Call    string    `json:"call"`  // eventName of that call
	At      time.Time `json:"at"`
	By      string    `json:"by"`                // access key id that made the call
	Cleanup []string  `json:"cleanup,omitempty"` // aws CLI commands, run in order
	Note    string    `json:"note,omitempty"`    // what the commands cannot do, or why there are none
	// Owner is the IAM user or role ("iam-user/NAME", "iam-role/NAME") a
	// dependent resource (key, login profile, policy attachment) belongs to.
	Owner string `json:"owner,omitempty"`
}

// creator turns one successful call into the resources it created.
type creator func(e cloudtrail.Event, req, resp map[string]any) []CreatedResource

// creators maps eventName to its reader; the readers live in created_*.go,
// each written from the requestParameters/responseElements seen in real logs.
var creators = map[string]creator{}

func register(c creator, names ...string) {
	for _, n := range names {
		creators[n] = c
	}
}

// Created lists every resource the events created, successful calls only,
// in the order they were created. An IAM user's cleanup also removes what
// the same events attached to it, in the order delete-user requires.
func Created(events []cloudtrail.Event) []CreatedResource {
	var out []CreatedResource
	for _, e := range events {
		c := creators[e.EventName]
		if c == nil || e.ErrorCode != "" {
			continue
		}
		for _, r := range c(e, object(e.RequestParameters), object(e.ResponseElements)) {
			r.Event, r.Call, r.At, r.By = e.EventID, e.EventName, e.EventTime, e.UserIdentity.AccessKeyID
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b CreatedResource) int { return a.At.Compare(b.At) })
	return orderPrincipalCleanup(out)
}

// orderPrincipalCleanup puts, in a user's or role's cleanup, the removal of
// each dependent resource the same events created before the final delete:
// IAM refuses delete-user/delete-role while any remain.
func orderPrincipalCleanup(rs []CreatedResource) []CreatedResource {
	deps := map[string][]string{}
	for _, r := range rs {
		if r.Kind == "iam-user" || r.Kind == "iam-role" || len(r.Cleanup) == 0 {
			continue
		}
		if r.Owner != "" {
			deps[r.Owner] = append(deps[r.Owner], r.Cleanup...)
		}
	}
	for i, r := range rs {
		key := r.Kind + "/" + r.ID
		if d := deps[key]; len(d) > 0 {
			rs[i].Cleanup = append(slices.Clone(d), r.Cleanup...)
		}
	}
	return rs
}

// shellQuote quotes an argument for a POSIX shell unless it is plainly
// safe: names come from logs an attacker influenced, and a responder pastes
// these commands into a terminal.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/@+=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// command builds "aws SERVICE VERB --flag value ..." with every value quoted.
func command(service, verb string, flags ...string) string {
	var b strings.Builder
	b.WriteString("aws " + service + " " + verb)
	for i := 0; i+1 < len(flags); i += 2 {
		b.WriteString(" " + flags[i] + " " + shellQuote(flags[i+1]))
	}
	return b.String()
}

// firstNonEmpty is the first of vs that is not empty.
func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
