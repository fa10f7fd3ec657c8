// Package verify asks AWS whether the keys a scan found still work, for
// `scan --verify`. Each distinct key is checked once, concurrently and at a
// bounded rate, and the answer is shared by every finding of that key.
package verify

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/scan/awskey"
)

// Checker checks one key; awsx.KeyChecker is the real one.
type Checker interface {
	CheckKey(ctx context.Context, key credential.Key) credential.Result
}

// Options bound the load put on STS and name the accounts never to call it for.
type Options struct {
	Concurrency int      // checks in flight at once; <= 0 means 4
	PerSecond   float64  // checks started per second; <= 0 means no limit
	Canaries    Canaries // canary-token accounts; nil means KnownCanaries
}

// keyRef identifies a credential without holding it in clear.
type keyRef struct {
	id, secretSHA, tokenSHA string
}

// Unknown says why the keys that came back unknown could not be told:
// each distinct reason, with how many keys it cost, in the order met.
type Unknown struct {
	Keys    int // keys (or credentials) checked or meant to be
	Reasons []Reason
}

// Reason is one cause of unknown answers.
type Reason struct {
	Why  string
	Keys int
}

// Count is how many keys came back unknown.
func (u Unknown) Count() int {
	n := 0
	for _, r := range u.Reasons {
		n += r.Keys
	}
	return n
}

func (u *Unknown) add(why string) {
	for i := range u.Reasons {
		if u.Reasons[i].Why == why {
			u.Reasons[i].Keys++
			return
		}
	}
	u.Reasons = append(u.Reasons, Reason{Why: why, Keys: 1})
}

// noTokenReason is why session credentials found without their token are unknown.
const noTokenReason = "session credentials without their session token cannot be checked"

// Findings sets Verified and ARN on every key-pair and session finding.
// A finding whose key id decodes, offline, to a canary-token account
// (opts.Canaries) becomes canary, and its key is never sent to AWS.
// Findings it cannot check (session credentials without their token)
// become unknown; others keep their state. Unknown says why each unknown
// answer is one (STS's error, summarised by reason). It returns an error
// only when ctx ends first, and then leaves unchecked findings as they were.
func Findings(ctx context.Context, checker Checker, findings []scan.Finding, opts Options) (Unknown, error) {
	keys := map[keyRef]credential.Key{}
	var order []keyRef
	var unknown Unknown
	unchecked := map[keyRef]bool{}
	canaries := opts.Canaries
	if canaries == nil {
		canaries = knownCanaries
	}
	for i := range findings {
		f := &findings[i]
		if isCanary(f, canaries) {
			f.Verified = scan.VerifiedCanary
			continue
		}
		ref, ok := checkable(f)
		switch {
		case !ok && f.Verified == scan.VerifiedUnknown && !unchecked[ref]:
			unchecked[ref] = true
			unknown.Keys++
			unknown.add(noTokenReason)
		case !ok:
		case keys[ref].ID == "":
			keys[ref] = credential.Key{ID: f.KeyID, Secret: f.Secret, SessionToken: f.SessionToken}
			order = append(order, ref)
		}
	}
	unknown.Keys += len(order)
	results, err := checkAll(ctx, checker, keys, order, opts)
	for _, ref := range order {
		if r, done := results[ref]; done && r.Status == credential.Unknown {
			unknown.add(reason(r, ref.id))
		}
	}
	for i := range findings {
		f := &findings[i]
		if ref, ok := checkable(f); ok {
			if r, done := results[ref]; done {
				f.Verified, f.ARN = status(r), r.ARN
			}
		}
	}
	return unknown, err
}

// isCanary reports whether f's key id decodes to one of the canary accounts.
func isCanary(f *scan.Finding, canaries Canaries) bool {
	account, ok := awskey.AccountID(f.KeyID)
	if !ok {
		return false
	}
	_, ok = canaries[account]
	return ok
}

// reason is why r is unknown, without the key it is about, so that the
// keys one cause cost are counted together.
func reason(r credential.Result, keyID string) string {
	if r.Err == nil {
		return "STS gave no answer"
	}
	return strings.TrimPrefix(r.Err.Error(), "check key "+keyID+": ")
}

// checkable says whether f can be checked, and marks what cannot as
// unknown; the ref it returns names f's credential either way.
func checkable(f *scan.Finding) (keyRef, bool) {
	if f.Rule != scan.RuleKeyPair && f.Rule != scan.RuleSession {
		return keyRef{}, false
	}
	ref := keyRef{f.KeyID, f.Secret.SHA256(), f.SessionToken.SHA256()}
	if f.KeyID == "" || f.Secret.IsZero() || (f.Rule == scan.RuleSession && f.SessionToken.IsZero()) {
		f.Verified = scan.VerifiedUnknown // STS would refuse it whether or not the key works
		return ref, false
	}
	return ref, true
}

func checkAll(ctx context.Context, checker Checker, keys map[keyRef]credential.Key, order []keyRef, opts Options) (map[keyRef]credential.Result, error) {
	limit := rate.Inf
	if opts.PerSecond > 0 {
		limit = rate.Limit(opts.PerSecond)
	}
	limiter := rate.NewLimiter(limit, 1)
	results := make([]credential.Result, len(order))
	checked := make([]bool, len(order))
	g, gctx := errgroup.WithContext(ctx)
	workers := opts.Concurrency
	if workers <= 0 {
		workers = 4
	}
	g.SetLimit(workers)
	for i, ref := range order {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := limiter.Wait(gctx); err != nil {
				return err
			}
			results[i] = checker.CheckKey(gctx, keys[ref])
			checked[i] = gctx.Err() == nil // an answer cut short by cancellation is no answer
			return nil
		})
	}
	err := g.Wait()
	out := make(map[keyRef]credential.Result, len(order))
	for i, ref := range order {
		if checked[i] {
			out[ref] = results[i]
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return out, fmt.Errorf("verify keys: checked %d of %d: %w", len(out), len(order), err)
	}
	return out, nil
}

func status(r credential.Result) string {
	switch r.Status {
	case credential.Active:
		return scan.VerifiedActive
	case credential.Invalid:
		return scan.VerifiedInvalid
	}
	return scan.VerifiedUnknown
}
