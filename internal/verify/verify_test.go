package verify_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/verify"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// countingChecker wraps a real checker and counts calls per key id.
type countingChecker struct {
	verify.Checker
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingChecker) CheckKey(ctx context.Context, key credential.Key) credential.Result {
	c.mu.Lock()
	c.calls[key.ID]++
	c.mu.Unlock()
	return c.Checker.CheckKey(ctx, key)
}

func finding(rule scan.Rule, id, sec, token, path string) scan.Finding {
	m := scan.Match{Rule: rule, KeyID: id, Secret: secret.New(sec), SessionToken: secret.New(token), Line: 1, Column: 1}
	return scan.NewFinding(m, scan.Location{Source: "file", Path: path, InHead: true})
}

func realChecker(t *testing.T) verify.Checker {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return awsx.NewKeyChecker(cfg)
}

func TestFindingsVerifiesAgainstSTS(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice")
	unknownID, unknownSecret := awstest.FakeKeyID("gone", 123456789012), awstest.FakeSecret("gone")
	findings := []scan.Finding{
		finding(scan.RuleKeyPair, alice.KeyID, alice.Secret.Reveal(), "", "a.env"),
		finding(scan.RuleKeyPair, alice.KeyID, alice.Secret.Reveal(), "", "b/c.env"),
		finding(scan.RuleKeyPair, unknownID, unknownSecret, "", "a.env"),
		finding(scan.RuleKeyID, unknownID, "", "", "readme.md"),
		finding(scan.RuleSession, awstest.FakeSessionKeyID("s", 1), awstest.FakeSecret("s"), "", "no-token.env"),
	}
	checker := &countingChecker{Checker: realChecker(t), calls: map[string]int{}}
	if _, err := verify.Findings(context.Background(), checker, findings, verify.Options{Concurrency: 3, PerSecond: 50}); err != nil {
		t.Fatal(err)
	}
	type state struct{ Verified, ARN string }
	var got []state
	for _, f := range findings {
		got = append(got, state{f.Verified, f.ARN})
	}
	want := []state{
		{scan.VerifiedActive, alice.ARN},
		{scan.VerifiedActive, alice.ARN},
		{scan.VerifiedInvalid, ""},
		{scan.VerifiedNotChecked, ""}, // a key id alone is not a credential
		{scan.VerifiedUnknown, ""},    // session without its token cannot be checked
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verification (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{alice.KeyID: 1, unknownID: 1}, checker.calls); diff != "" {
		t.Errorf("STS calls per key (-want +got):\n%s", diff)
	}
}

func TestFindingsChecksSameIDWithDifferentSecretsSeparately(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice")
	findings := []scan.Finding{
		finding(scan.RuleKeyPair, alice.KeyID, alice.Secret.Reveal(), "", "a.env"),
		finding(scan.RuleKeyPair, alice.KeyID, awstest.FakeSecret("typo"), "", "b.env"),
	}
	checker := &countingChecker{Checker: realChecker(t), calls: map[string]int{}}
	if _, err := verify.Findings(context.Background(), checker, findings, verify.Options{}); err != nil {
		t.Fatal(err)
	}
	if findings[0].Verified != scan.VerifiedActive || findings[1].Verified != scan.VerifiedInvalid {
		t.Errorf("verified = %s, %s; want active, invalid", findings[0].Verified, findings[1].Verified)
	}
	if checker.calls[alice.KeyID] != 2 {
		t.Errorf("STS calls = %d, want 2", checker.calls[alice.KeyID])
	}
}

func TestFindingsStopsWhenContextEnds(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice")
	findings := []scan.Finding{finding(scan.RuleKeyPair, alice.KeyID, alice.Secret.Reveal(), "", "a.env")}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := verify.Findings(ctx, realChecker(t), findings, verify.Options{PerSecond: 1}); err == nil {
		t.Fatal("Findings with a cancelled context returned nil")
	}
	if findings[0].Verified != scan.VerifiedNotChecked {
		t.Errorf("verified = %s after cancellation, want not_checked", findings[0].Verified)
	}
}

// inFlightChecker records how many checks run at once; it stands in for the
// checker, not for STS.
type inFlightChecker struct{ now, peak atomic.Int32 }

func (c *inFlightChecker) CheckKey(ctx context.Context, key credential.Key) credential.Result {
	n := c.now.Add(1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	for range 100 {
		runtime.Gosched()
	}
	c.now.Add(-1)
	return credential.Result{Status: credential.Invalid}
}

func TestFindingsBoundsConcurrency(t *testing.T) {
	var findings []scan.Finding
	for i := range 40 {
		seed := string(rune('a'+i%26)) + string(rune('a'+i/26))
		findings = append(findings, finding(scan.RuleKeyPair, awstest.FakeKeyID(seed, 1), awstest.FakeSecret(seed), "", "f"))
	}
	checker := &inFlightChecker{}
	if _, err := verify.Findings(context.Background(), checker, findings, verify.Options{Concurrency: 2}); err != nil {
		t.Fatal(err)
	}
	if p := checker.peak.Load(); p > 2 {
		t.Errorf("%d checks ran at once, want at most 2", p)
	}
	for _, f := range findings {
		if f.Verified != scan.VerifiedInvalid {
			t.Fatalf("finding left %s", f.Verified)
		}
	}
}

// downChecker answers every key as STS does when it cannot be reached.
type downChecker struct{}

func (downChecker) CheckKey(ctx context.Context, key credential.Key) credential.Result {
	return credential.Result{Status: credential.Unknown,
		Err: fmt.Errorf("check key %s: operation error STS: GetCallerIdentity: dial tcp 127.0.0.1:1: connect: connection refused", key.ID)}
}

// TestFindingsSayWhyKeysAreUnknown: every key unknown for one cause is one
// reason, counted, without the key ids; a session without its token is
// another.
func TestFindingsSayWhyKeysAreUnknown(t *testing.T) {
	findings := []scan.Finding{
		finding(scan.RuleKeyPair, awstest.FakeKeyID("a", 1), awstest.FakeSecret("a"), "", "a.env"),
		finding(scan.RuleKeyPair, awstest.FakeKeyID("a", 1), awstest.FakeSecret("a"), "", "copy.env"),
		finding(scan.RuleKeyPair, awstest.FakeKeyID("b", 1), awstest.FakeSecret("b"), "", "b.env"),
		finding(scan.RuleSession, "ASIA"+awstest.FakeKeyID("c", 1)[4:], awstest.FakeSecret("c"), "", "c.env"),
	}
	unknown, err := verify.Findings(context.Background(), downChecker{}, findings, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := verify.Unknown{Keys: 3, Reasons: []verify.Reason{
		{Why: "session credentials without their session token cannot be checked", Keys: 1},
		{Why: "operation error STS: GetCallerIdentity: dial tcp 127.0.0.1:1: connect: connection refused", Keys: 2},
	}}
	if diff := cmp.Diff(want, unknown); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
	if unknown.Count() != 3 {
		t.Errorf("Count() = %d, want 3", unknown.Count())
	}
	for _, f := range findings {
		if f.Verified != scan.VerifiedUnknown {
			t.Errorf("%s: verified %s, want unknown", f.Path, f.Verified)
		}
	}
}
