package retire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/retire/netranges"
)

// KeyInfo is what IAM says of a key (retireaws.KeyLister reads it); with
// --key and no IAM at hand, only ID.
type KeyInfo struct {
	ID       string
	User     string
	Status   string    // Active or Inactive
	LastUsed time.Time // zero: never, or not known
	// LastUseKnown says IAM was read: without it, no event is no proof
	// the key is unused.
	LastUseKnown bool
	// Tags are the user's tags: a third party's user says so there
	// (audit.DefaultThirdPartyTags, as KW-THIRD-PARTY-KEY reads them).
	Tags map[string]string
}

// ErrNoSuchKey is IAM's answer for a key id that is not in the account.
var ErrNoSuchKey = errors.New("no such access key in the account (IAM does not know it)")

// Request is which keys to plan for, over which window.
type Request struct {
	Keys         []KeyInfo
	Since, Until time.Time
	Target       Target
	Threshold    int // policy suggest's; 0 is its default
}

// Env is what a plan reads from.
type Env struct {
	Sources []policy.Named
	Ranges  *netranges.Table // nil: netranges.Default()
	Rights  policy.Rights    // nil: the permissions' report skips the user's current policies
	Warn    func(error)
	Rand    io.Reader // external ids; nil: crypto/rand
}

// MakePlan reads every source once, classifies each key from its events
// and those of the sessions minted from it (policy's selection), and
// proposes each key's replacement with the permissions policy suggest
// finds in the same events.
func MakePlan(ctx context.Context, req Request, env Env) (Plan, error) {
	if len(req.Keys) == 0 {
		return Plan{}, fmt.Errorf("no access key to plan for")
	}
	ranges := env.Ranges
	if ranges == nil {
		var err error
		if ranges, err = netranges.Default(); err != nil {
			return Plan{}, err
		}
	}
	cls := NewClassifier(ranges)
	srcs := make([]policy.Named, len(env.Sources))
	for i, s := range env.Sources {
		srcs[i] = policy.Named{Name: s.Name, Source: tee{s.Source, cls}}
	}
	threshold := req.Threshold
	if threshold == 0 {
		threshold = policy.DefaultThreshold
	}
	reqs := make([]policy.Request, len(req.Keys))
	for i, k := range req.Keys {
		reqs[i] = policy.Request{Key: k.ID, Since: req.Since, Until: req.Until, Threshold: threshold}
	}
	sugs, err := policy.RunEach(ctx, reqs, policy.Env{Sources: srcs, Rights: env.Rights, Warn: env.Warn})
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Version: Version, Account: req.Target.Account, Since: req.Since, Until: req.Until}
	var gaps gap.List // the read's, and each user's policies that could not be read
	for i, k := range req.Keys {
		s := sugs[i]
		if p.Account == "" {
			p.Account = s.Principal.Account
		}
		for _, g := range s.Incomplete {
			gaps.Add(g)
		}
		key, err := planKey(k, s, cls.Classify(append([]string{k.ID}, s.Sessions...)...), req, env.Rand)
		if err != nil {
			return Plan{}, err
		}
		p.Keys = append(p.Keys, key)
	}
	p.Incomplete = gaps.Gaps()
	for i := range p.Keys {
		if p.Keys[i].Account == "" {
			p.Keys[i].Account = p.Account
		}
	}
	slices.SortStableFunc(p.Keys, func(a, b Key) int {
		if a.User != b.User {
			if a.User < b.User {
				return -1
			}
			return 1
		}
		if a.AccessKeyID < b.AccessKeyID {
			return -1
		}
		return 1
	})
	return p, nil
}

// planKey is one key's plan from its verdict.
func planKey(k KeyInfo, s policy.Suggestion, v Verdict, req Request, rnd io.Reader) (Key, error) {
	key := Key{AccessKeyID: k.ID, User: k.User, Account: s.Principal.Account, Class: v.Class, Evidence: v.Evidence,
		Events: v.Events, LastUsed: k.LastUsed, Notes: v.Notes}
	if key.User == "" {
		key.User = s.Principal.Name
	}
	if v.Last.After(key.LastUsed) {
		key.LastUsed = v.Last
	}
	kind := v.Kind
	if v.Class == ClassUnused && !k.LastUseKnown {
		key.Class, kind = ClassUnknown, ""
		key.Notes = append(key.Notes, "no event of the key was read, and IAM's last use of it could not be: that it is unused is not shown")
	} else if v.Class == ClassUnused && inWindow(k.LastUsed, req.Since, req.Until) {
		// IAM saw a use the sources do not hold: they miss where the key is used.
		key.Class, kind = ClassUnknown, ""
		key.Notes = append(key.Notes, fmt.Sprintf("IAM says the key was last used %s, inside the window, but no event of it was read: the sources miss where it is used (another region, data events, another trail)",
			k.LastUsed.UTC().Format(time.RFC3339)))
	}
	if tag, ok := audit.ThirdPartyTag(k.Tags, audit.DefaultThirdPartyTags); ok && key.Class != ClassUnused {
		// The owner's own word: a vendor's service runs anywhere, AWS's ranges included.
		if key.Class != ClassThirdParty {
			key.Notes = append(key.Notes, fmt.Sprintf("the events alone say %s; the user's tag %s says a third party holds the key", key.Class, tag))
		}
		key.Class, kind = ClassThirdParty, ReplaceExternalIDRole
		key.Evidence = append(key.Evidence, Evidence{Class: ClassThirdParty, Reason: "the user is tagged " + tag, Example: tag})
	}
	if key.Class == ClassGitLab {
		key.Notes = append(key.Notes, "GitLab was recognised from Google Cloud's ranges, where GitLab.com's hosted runners run; another workload on Google Cloud looks the same: check before applying")
	}
	if len(s.Incomplete) > 0 {
		key.Notes = append(key.Notes, "some sources could not be read: the key may be used where they would have shown")
	}
	target := req.Target
	if target.Account == "" {
		target.Account = key.Account
	}
	r, notes, err := replacement(kind, key.User, target, rnd)
	if err != nil {
		return Key{}, err
	}
	key.Replacement = r
	key.Notes = append(key.Notes, notes...)
	if kind != ReplaceDelete && kind != "" {
		perm := s
		key.Permissions = &perm
	}
	return key, nil
}

func inWindow(t, since, until time.Time) bool {
	return !t.IsZero() && !t.Before(since) && (until.IsZero() || !t.After(until))
}

// tee hands every event it reads to the classifier as well as to policy.
type tee struct {
	policy.Source
	cls *Classifier
}

func (t tee) Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	return t.Source.Read(ctx, opts, func(e cloudtrail.Event) error {
		t.cls.Add(e)
		return sink(e)
	})
}

// Keys reads an account's access keys and their last use (IAM: the
// KeyLister of retireaws).
type Keys interface {
	Key(ctx context.Context, id string) (KeyInfo, error)
	UserKeys(ctx context.Context, user string) ([]KeyInfo, error)
	AllKeys(ctx context.Context) ([]KeyInfo, error)
	Account(ctx context.Context) (string, error)
}
