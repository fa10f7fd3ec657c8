package verify_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/verify"
)

// countingTransport counts the requests the SDK sends and answers none.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no network in this test")
}

// TestFindingsNeverSendsACanary: a key whose id decodes to a canary-token
// account (canarytokens.org's 171436882533 here) is reported canary and no
// request leaves for it; the other key in the same run is sent, which
// proves the transport is the one in use.
func TestFindingsNeverSendsACanary(t *testing.T) {
	rt := &countingTransport{}
	cfg := aws.Config{Region: "us-east-1", HTTPClient: &http.Client{Transport: rt}, BaseEndpoint: aws.String("http://127.0.0.1:1"),
		RetryMaxAttempts: 1}
	canary := awstest.FakeKeyID("canary", 171436882533)
	findings := []scan.Finding{
		finding(scan.RuleKeyPair, canary, awstest.FakeSecret("canary"), "", "a.env"),
		finding(scan.RuleKeyID, canary, "", "", "readme.md"),
		finding(scan.RuleKeyPair, awstest.FakeKeyID("plain", 123456789012), awstest.FakeSecret("plain"), "", "b.env"),
	}
	unknown, err := verify.Findings(context.Background(), awsx.NewKeyChecker(cfg), findings, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rt.n.Load(); got != 1 {
		t.Errorf("%d requests sent, want 1 (the plain key only)", got)
	}
	for i, want := range []string{scan.VerifiedCanary, scan.VerifiedCanary, scan.VerifiedUnknown} {
		if got := findings[i].Verified; got != want {
			t.Errorf("finding %d (%s): verified %q, want %q", i, findings[i].Path, got, want)
		}
	}
	if unknown.Keys != 1 {
		t.Errorf("unknown.Keys = %d, want 1: a canary is not a key left unchecked", unknown.Keys)
	}
}

// TestFindingsTakesTheUsersCanaries: an account the user names is a canary
// too; without it, the same key is checked.
func TestFindingsTakesTheUsersCanaries(t *testing.T) {
	own := awstest.FakeKeyID("own", 210987654321)
	for _, tt := range []struct {
		accounts []string
		want     string
		calls    int
	}{
		{nil, scan.VerifiedActive, 1},
		{[]string{"210987654321"}, scan.VerifiedCanary, 0},
	} {
		canaries, err := verify.KnownCanaries().With(tt.accounts)
		if err != nil {
			t.Fatal(err)
		}
		checker := &countingChecker{Checker: activeChecker{}, calls: map[string]int{}}
		findings := []scan.Finding{finding(scan.RuleKeyPair, own, awstest.FakeSecret("own"), "", "a.env")}
		if _, err := verify.Findings(context.Background(), checker, findings, verify.Options{Canaries: canaries}); err != nil {
			t.Fatal(err)
		}
		if findings[0].Verified != tt.want || checker.calls[own] != tt.calls {
			t.Errorf("canaries %v: verified %q after %d calls, want %q after %d", tt.accounts, findings[0].Verified, checker.calls[own], tt.want, tt.calls)
		}
	}
}

func TestCanariesWithRefusesWhatIsNoAccount(t *testing.T) {
	for _, bad := range []string{"", "12345678901", "1234567890123", "12345678901a", "AKIA"} {
		if _, err := verify.KnownCanaries().With([]string{bad}); err == nil {
			t.Errorf("With(%q) took it, want an error", bad)
		}
	}
	if _, err := verify.KnownCanaries().With([]string{"000000000001"}); err != nil {
		t.Errorf("With(000000000001): %v", err)
	}
}

// activeChecker answers every key as active.
type activeChecker struct{}

func (activeChecker) CheckKey(context.Context, credential.Key) credential.Result {
	return credential.Result{Status: credential.Active}
}
