package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
)

// Source is where suggest reads events: any watch source (watch.NewSource:
// log files, directories, s3:// prefixes, lookup:).
type Source interface {
	Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error
}

// Named is a source with the name the user gave it.
type Named struct {
	Name string
	Source
}

// Rights reads a principal's policies now (policyaws.IAM in AWS, the
// reader apply snapshots with): suggest reports from them what was never
// used and records their fingerprint, so apply can refuse a suggestion
// whose principal's policies changed since.
type Rights interface {
	Current(ctx context.Context, p Principal) (Current, error)
}

// Request is whose events to read, and how far back.
type Request struct {
	Key, User, Role string // exactly one
	Since, Until    time.Time
	Threshold       int // see NewObserved
}

// Env is what a suggestion reads from.
type Env struct {
	Sources []Named
	Rights  Rights      // nil: the current policy is not read
	Warn    func(error) // hears of what was skipped; nil: nothing
	// Advisor, when set, adds the services Access Advisor saw used since
	// AdvisorSince that no event of the window shows (AddAdvisor): what a
	// short trail misses, at service level.
	Advisor      Advisor
	AdvisorSince time.Time
}

// Run reads every source, keeps the principal's events (for a key, also
// those of the sessions it minted with GetSessionToken or
// GetFederationToken, found as respond finds them), and suggests. A
// source that cannot be read, and the current policy when it cannot be
// read, are gaps in the suggestion; the error is a cancelled ctx, or no
// source that could be read at all.
func Run(ctx context.Context, req Request, env Env) (Suggestion, error) {
	s, err := RunEach(ctx, []Request{req}, env)
	if err != nil {
		return Suggestion{}, err
	}
	return s[0], nil
}

// RunEach is Run for several principals over one read of the sources
// (retire plan's --all): the suggestions are in the order of reqs, each
// with the gaps of the whole read.
func RunEach(ctx context.Context, reqs []Request, env Env) ([]Suggestion, error) {
	sels := make([]*selector, len(reqs))
	for i, req := range reqs {
		sel, err := newSelector(req)
		if err != nil {
			return nil, err
		}
		sels[i] = sel
	}
	var since, until time.Time
	for i, req := range reqs {
		if i == 0 || req.Since.Before(since) {
			since = req.Since
		}
		if i == 0 || req.Until.After(until) {
			until = req.Until
		}
	}
	var gaps gap.List
	var unread []gap.Gap
	for _, src := range env.Sources {
		var (
			mu       sync.Mutex // readers warn from several goroutines
			firstBad = map[string]bool{}
			warned   *gap.Gap
			read     atomic.Bool // some file, object or region of src was read to its end
		)
		opts := cloudtrail.Options{Since: since, Until: until, Read: func(string) { read.Store(true) }, Warn: func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if env.Warn != nil {
				env.Warn(err)
			}
			g := gap.Gap{Source: src.Name, Reason: oneLine(err)}
			var re *cloudtrail.RecordError
			if errors.As(err, &re) {
				g = gap.Gap{Source: re.File, Reason: oneLine(re.Err)}
				if re.Index >= 0 {
					g.Reason = fmt.Sprintf("corrupt at record %d: %s", re.Index, g.Reason)
				}
			}
			if !firstBad[g.Source] {
				firstBad[g.Source] = true
				gaps.Add(g)
			}
			if warned == nil {
				warned = &g
			}
		}}
		err := src.Read(ctx, opts, func(e cloudtrail.Event) error {
			for i, sel := range sels {
				if reqs[i].within(e.EventTime) {
					sel.add(e)
				}
			}
			return nil
		})
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		switch {
		case err != nil:
			g := gap.Gap{Source: src.Name, Reason: oneLine(err)}
			gaps.Add(g)
			unread = append(unread, g)
		case warned != nil && !read.Load():
			unread = append(unread, *warned)
		}
	}
	if len(unread) > 0 && len(unread) == len(env.Sources) {
		// Nothing was read: a policy from no events would deny everything.
		return nil, fmt.Errorf("read %s", unread[0])
	}
	out := make([]Suggestion, len(reqs))
	for i, sel := range sels {
		s, err := suggestOne(ctx, reqs[i], env, sel, gaps.Gaps())
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// within says whether t is in the request's window (a zero bound is none;
// an event without a time is kept, as cloudtrail's reader keeps it).
func (r Request) within(t time.Time) bool {
	return t.IsZero() || (r.Since.IsZero() || !t.Before(r.Since)) && (r.Until.IsZero() || !t.After(r.Until))
}

// suggestOne is one principal's suggestion from what its selector kept.
func suggestOne(ctx context.Context, req Request, env Env, sel *selector, read []gap.Gap) (Suggestion, error) {
	var gaps gap.List
	for _, g := range read {
		gaps.Add(g)
	}
	obs, p, sessions := sel.result()
	opts := Options{Principal: p, Since: req.Since, Until: req.Until}
	fingerprint := ""
	if env.Rights != nil && p.Name != "" {
		eff, fp, err := currentRights(ctx, env.Rights, p)
		if err != nil {
			gaps.Add(gap.Gap{Source: "IAM policies of " + p.Type + " " + p.Name, Reason: oneLine(err)})
		} else {
			opts.Current, fingerprint = &eff, fp
		}
	}
	s, err := obs.Suggest(opts)
	if err != nil {
		return s, err
	}
	s.Fingerprint = fingerprint
	if env.Advisor != nil {
		if err := addAdvisor(ctx, env, &s); err != nil {
			gaps.Add(gap.Gap{Source: "Access Advisor of " + s.Principal.Type + " " + s.Principal.Name, Reason: oneLine(err)})
		}
	}
	s.Sessions = sessions
	s.Incomplete = gaps.Gaps()
	if s.Events == 0 {
		s.Notes = append(s.Notes, "no event of the principal was read: the policy allows nothing")
	}
	return s, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// selector keeps the principal's events as it reads.
type selector struct {
	req   Request
	byKey map[string]*Observed // --key: the key's, and each candidate session's
	one   *Observed            // --user, --role
	mints []cloudtrail.Event   // --key: the STS calls that minted sessions
	who   Principal
}

func newSelector(req Request) (*selector, error) {
	n := 0
	for _, s := range []string{req.Key, req.User, req.Role} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("want exactly one of a key, a user or a role")
	}
	s := &selector{req: req, byKey: map[string]*Observed{}}
	switch {
	case req.Key != "":
		s.who = Principal{Type: "user", KeyID: req.Key}
	case req.User != "":
		s.who = Principal{Type: "user", Name: req.User}
	default:
		s.who = Principal{Type: "role", Name: req.Role}
	}
	obs, err := NewObserved(req.Threshold)
	s.one = obs
	return s, err
}

// mintCalls are the STS calls whose credentials carry the caller's own
// rights; AssumeRole's carry the role's, so a role session is not the key's.
var mintCalls = map[string]bool{"GetSessionToken": true, "GetFederationToken": true, "AssumeRole": true}

func (s *selector) add(e cloudtrail.Event) {
	id := e.UserIdentity
	switch {
	case s.req.User != "":
		if id.Type == "IAMUser" && id.UserName == s.req.User {
			s.learn(e)
			s.one.Add(e)
		}
	case s.req.Role != "":
		if id.Type == "AssumedRole" && id.SessionContext.SessionIssuer.UserName == s.req.Role {
			s.learn(e)
			s.one.Add(e)
		}
	default:
		if e.EventSource == "sts.amazonaws.com" && mintCalls[e.EventName] && e.ErrorCode == "" {
			s.mints = append(s.mints, e)
		}
		k := id.AccessKeyID
		if k != s.req.Key && (!strings.HasPrefix(k, "ASIA") || id.Type != "IAMUser" && id.Type != "FederatedUser") {
			return
		}
		if k == s.req.Key {
			s.learn(e)
		}
		obs := s.byKey[k]
		if obs == nil {
			obs = newObserved(s.one.res, s.one.threshold)
			s.byKey[k] = obs
		}
		obs.Add(e)
	}
}

// learn fills the principal's ARN and account from its events (the
// least ARN seen, so the order of events does not matter).
func (s *selector) learn(e cloudtrail.Event) {
	id := e.UserIdentity
	arn, name := id.ARN, id.UserName
	if id.Type == "AssumedRole" {
		arn, name = id.SessionContext.SessionIssuer.ARN, id.SessionContext.SessionIssuer.UserName
	}
	if s.who.ARN == "" || (arn != "" && arn < s.who.ARN) {
		s.who.ARN, s.who.Name, s.who.Account = arn, name, id.AccountID
		if id.Type == "AssumedRole" {
			s.who.Type = "role" // --key named a role session's key
		}
	}
}

// result merges what was kept: for --key, the key's events and those of
// the sessions minted from it (and from those), never a role's session.
func (s *selector) result() (*Observed, Principal, []string) {
	if s.req.Key == "" {
		return s.one, s.who, nil
	}
	in := map[string]bool{s.req.Key: true}
	var sessions []string
	for _, m := range respond.Follow(s.req.Key, s.mints) {
		if m.By != "AssumeRole" && in[m.Parent] {
			in[m.KeyID] = true
			sessions = append(sessions, m.KeyID)
		}
	}
	for _, k := range sortedKeys(s.byKey) {
		if in[k] {
			s.one.merge(s.byKey[k])
		}
	}
	slices.Sort(sessions)
	return s.one, s.who, sessions
}

func (o *Observed) merge(x *Observed) {
	o.events += x.events
	for a, set := range x.granted {
		for r := range set.items {
			o.use(a, []string{r}, false)
		}
	}
	maps.Copy(o.denied, x.denied)
	mergeInto(o.unmapped, x.unmapped)
	mergeInto(o.calls, x.calls)
	mergeInto(o.refused, x.refused)
	for a := range x.guessed {
		o.guessed[a] = true
	}
	for a, by := range x.neededBy {
		if cur, ok := o.neededBy[a]; !ok || by < cur {
			o.neededBy[a] = by
		}
	}
}

func mergeInto[K comparable](dst, src map[K]*evidence) {
	for k, ev := range src {
		if dst[k] == nil {
			dst[k] = &evidence{}
		}
		dst[k].merge(ev)
	}
}

// currentRights is p's effective policy and the fingerprint of its policies.
func currentRights(ctx context.Context, r Rights, p Principal) (iampolicy.Effective, string, error) {
	cur, err := r.Current(ctx, p)
	if err != nil {
		return iampolicy.Effective{}, "", err
	}
	eff, err := cur.Effective()
	if err != nil {
		return iampolicy.Effective{}, "", fmt.Errorf("resolve the policies of %s %s: %w", p.Type, p.Name, err)
	}
	return eff, cur.Fingerprint(), nil
}

// addAdvisor reads Access Advisor for the suggestion's principal and adds
// what it saw that the events did not.
func addAdvisor(ctx context.Context, env Env, s *Suggestion) error {
	facts, err := AdvisorFacts(ctx, env.Advisor, s.Principal)
	if err != nil {
		return err
	}
	_, err = s.AddAdvisor(facts, env.AdvisorSince)
	return err
}
