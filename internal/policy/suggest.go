package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

// DefaultThreshold is how many sibling resources under one prefix a
// principal must use before suggest grants the prefix with a wildcard.
const DefaultThreshold = 10

// evidence is what was seen of one action on one resource.
type evidence struct {
	first, last time.Time
	count       int
}

func (ev *evidence) add(t time.Time) {
	if ev.count == 0 || t.Before(ev.first) {
		ev.first = t
	}
	if ev.count == 0 || t.After(ev.last) {
		ev.last = t
	}
	ev.count++
}

func (ev *evidence) merge(o *evidence) {
	if o.count == 0 {
		return
	}
	if ev.count == 0 || o.first.Before(ev.first) {
		ev.first = o.first
	}
	if ev.count == 0 || o.last.After(ev.last) {
		ev.last = o.last
	}
	ev.count += o.count
}

// pair keys an action on a resource.
type pair struct{ action, resource string }

// Observed is what a principal's events showed: the calls that succeeded,
// those IAM refused, and those the data could not map. Adding the same
// events in any order gives the same Observed.
type Observed struct {
	res       *resolver
	granted   map[string]*resourceSet // action -> the resources it was used on
	denied    map[pair]struct{}
	unmapped  map[pair]*evidence   // eventSource, eventName
	calls     map[string]*evidence // action -> the calls that needed it (granted)
	refused   map[string]*evidence // action -> the calls denied
	guessed   map[string]bool      // actions named after an unmapped event
	neededBy  map[string]string    // second action -> the call's own action (the least, for stability)
	events    int
	threshold int
}

// NewObserved is an empty Observed over the embedded IAM data: more than
// threshold sibling resources under one prefix are granted as prefix/*
// (0: DefaultThreshold).
func NewObserved(threshold int) (*Observed, error) {
	d, err := iamdata.Load()
	if err != nil {
		return nil, err
	}
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	return newObserved(newResolver(d), threshold), nil
}

func newObserved(r *resolver, threshold int) *Observed {
	return &Observed{res: r, threshold: threshold, granted: map[string]*resourceSet{}, denied: map[pair]struct{}{}, unmapped: map[pair]*evidence{},
		calls: map[string]*evidence{}, refused: map[string]*evidence{}, guessed: map[string]bool{}, neededBy: map[string]string{}}
}

// Add records one event of the principal.
func (o *Observed) Add(e cloudtrail.Event) {
	o.events++
	for _, n := range o.res.memo(e, o.needs) {
		calls := o.calls
		if Denied(e) {
			calls = o.refused
		}
		if calls[n.action] == nil {
			calls[n.action] = &evidence{}
		}
		calls[n.action].add(e.EventTime)
		o.use(n.action, n.resources, Denied(e))
		if n.unmapped {
			o.guessed[n.action] = true
			k := pair{e.EventSource, e.EventName}
			if o.unmapped[k] == nil {
				o.unmapped[k] = &evidence{}
			}
			o.unmapped[k].add(e.EventTime)
		}
		if n.neededBy != "" && !Denied(e) {
			if cur, ok := o.neededBy[n.action]; !ok || n.neededBy < cur {
				o.neededBy[n.action] = n.neededBy
			}
		}
	}
}

// use records that action was called (or denied) on resources.
func (o *Observed) use(action string, resources []string, denied bool) {
	if denied {
		for _, r := range resources {
			o.denied[pair{action, r}] = struct{}{}
		}
		return
	}
	set := o.granted[action]
	if set == nil {
		set = newResourceSet(o.threshold)
		o.granted[action] = set
	}
	for _, r := range resources {
		set.add(r)
	}
}

// needs are the actions event e required, each on its resources.
func (o *Observed) needs(e cloudtrail.Event) []need {
	d := o.res.data
	req := object(e.RequestParameters)
	actions, known := actionsOf(d, e, req)
	if len(actions) == 0 {
		return nil
	}
	var out []need
	for _, full := range actions {
		prefix, name, _ := strings.Cut(full, ":")
		n := need{action: full, resources: []string{"*"}, unmapped: !known}
		if a, ok := d.Action(prefix, name); ok {
			n.resources = o.res.resources(prefix, a, e, req)
		}
		out = append(out, n)
	}
	own := actions[0]
	prefix, name, _ := strings.Cut(own, ":")
	if roles := passedRoles(prefix, name, e, req); len(roles) > 0 {
		for _, r := range roles {
			if strings.HasSuffix(r, ":role/*") { // an instance profile's role, not in the event
				o.res.unnamed[r] = true
			}
		}
		out = append(out, need{action: "iam:PassRole", resources: roles, neededBy: own})
	}
	return out
}

// Options shape a suggestion.
type Options struct {
	Principal    Principal
	Since, Until time.Time
	// Current is the principal's effective policy now; nil: unknown (no
	// report of what it grants and never used).
	Current *iampolicy.Effective
}

// Suggest turns what was observed into the least-privilege policy and
// its report.
func (o *Observed) Suggest(opts Options) (Suggestion, error) {
	s := Suggestion{Principal: opts.Principal, Since: opts.Since.UTC(), Until: opts.Until.UTC(), Events: o.events}
	byAction := map[string][]string{}
	for a, set := range o.granted {
		byAction[a] = set.list()
	}
	stmts := statements(byAction)
	doc, err := json.Marshal(policyDocument{Version: "2012-10-17", Statement: stmts})
	if err != nil {
		return s, err
	}
	if _, err := iampolicy.Parse(string(doc)); err != nil {
		return s, fmt.Errorf("the suggested policy does not parse: %w", err) // a bug: say so, never write it
	}
	s.Policy = doc
	s.Statements = map[string]string{}
	for _, st := range stmts {
		s.Statements[st.Sid] = SourceCloudTrail
	}
	for _, a := range sortedKeys(byAction) {
		ev := o.calls[a]
		s.Actions = append(s.Actions, Action{Action: a, Resources: byAction[a], FirstSeen: ev.first, LastSeen: ev.last,
			Count: ev.count, Source: SourceCloudTrail, Needed: o.neededBy[a], Guessed: o.guessed[a]})
	}
	s.Denied = o.deniedActions()
	s.Unmapped = o.unmappedEvents()
	s.Scoped = scopedShare(stmts, o.res.unnamed)
	if size := len(doc); size > MaxPolicySize {
		s.Notes = append(s.Notes, fmt.Sprintf("the policy is %d characters, over IAM's %d for a managed policy: raise --threshold's generalisation (a lower --threshold) or split it", size, MaxPolicySize))
	}
	if opts.Current != nil {
		s.Unused = unused(o.res.data, *opts.Current, byAction, doc)
	}
	return s, nil
}

func (o *Observed) deniedActions() []Action {
	resources := map[string][]string{}
	for k := range o.denied {
		resources[k.action] = append(resources[k.action], k.resource)
	}
	var out []Action
	for _, a := range sortedKeys(o.refused) {
		ev := o.refused[a]
		rs := resources[a]
		slices.Sort(rs)
		out = append(out, Action{Action: a, Resources: rs, FirstSeen: ev.first, LastSeen: ev.last, Count: ev.count, Denied: ev.count, Source: SourceCloudTrail})
	}
	return out
}

func (o *Observed) unmappedEvents() []Unmapped {
	var out []Unmapped
	for k, ev := range o.unmapped {
		out = append(out, Unmapped{EventSource: k.action, EventName: k.resource, Count: ev.count, FirstSeen: ev.first, LastSeen: ev.last})
	}
	slices.SortFunc(out, func(a, b Unmapped) int {
		return strings.Compare(a.EventSource+"\x00"+a.EventName, b.EventSource+"\x00"+b.EventName)
	})
	return out
}

// Unmapped is an event the IAM data could not map to an action: granted
// as named ("prefix:EventName"), for a person to check.
type Unmapped struct {
	EventSource string    `json:"event_source"`
	EventName   string    `json:"event_name"`
	Count       int       `json:"count"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
