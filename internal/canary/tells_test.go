package canary

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan/awskey"
	"github.com/keywarden/keywarden/internal/verify"
)

// The "cannot be told apart" matrix. Rows are the ways canary-spotting tools
// tell a canary (Tells: the name and path heuristics of trufflehog and
// Pacu's iam__detect_honeytokens, as their sources describe them; the
// offline decoding of the key id's account against the public canary
// lists); columns are identities. The public services' canaries are told;
// every identity keywarden generates, in many draws of every template, is
// not.
func TestGeneratedIdentitiesAreNotTold(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 2000 {
		id := Pick(r)
		seen[strings.SplitN(id.User, "-", 2)[0]] = true
		if tells := Tells(id.Path, id.User); len(tells) > 0 {
			t.Fatalf("generated %s%s is told: %v", id.Path, id.User, tells)
		}
		if err := checkIdentity(id); err != nil {
			t.Fatalf("generated %s%s is refused by IAM's rules: %v", id.Path, id.User, err)
		}
		if Tells("/", id.Policy) != nil || strings.Contains(strings.ToLower(id.Policy), "deny") {
			t.Fatalf("policy name %s says what it is", id.Policy)
		}
	}
	if !seen["svc"] || !seen["ci"] || len(seen) < 3 {
		t.Errorf("not every template was drawn: %v", seen)
	}
}

// The control rows: identities of the public canary services and obviously
// generated ones are told, so a predicate that never fires cannot pass the
// matrix above.
func TestKnownCanariesAreTold(t *testing.T) {
	for _, c := range []struct{ path, user, why string }{
		{"/", "canarytokens.com@@kz9r8ouqnhve4zs1yi4bzspzz", "@@"},
		{"/SpaceCrab/", "l_salander", "SpaceCrab"},
		{"/", "3f2c9a1e-6b7d-4c8e-9f10-2a3b4c5d6e7f", "UUID"},
		{"/", "honeytoken-prod", "honeytoken"},
		{"/canary/", "backup", "canary"},
		{"/", "deploy-a8f3k29xq7m2p4z1", "random-looking"},
		{"/", "svc-0123456789abcdef", "hex"},
	} {
		tells := Tells(c.path, c.user)
		if !strings.Contains(strings.Join(tells, "; "), c.why) {
			t.Errorf("%s%s: want a tell naming %q, got %v", c.path, c.user, c.why, tells)
		}
	}
	for _, ordinary := range [][2]string{{"/", "jenkins"}, {"/service/", "svc-orders-sync"}, {"/ci/", "ci-deploy-assets"},
		{"/", "laura.jensen"}, {"/", "terraform"}} {
		if tells := Tells(ordinary[0], ordinary[1]); len(tells) > 0 {
			t.Errorf("%s%s is an ordinary user, told: %v", ordinary[0], ordinary[1], tells)
		}
	}
}

// Offline account decoding: a key id from any listed account is told by the
// account it decodes to; one from the canary's own account decodes to that
// account and to no listed one, and keyWarnings says nothing of it.
func TestAccountDecoding(t *testing.T) {
	listed := verify.KnownCanaries()
	for account := range listed {
		var n uint64
		for _, d := range account {
			n = n*10 + uint64(d-'0')
		}
		got, ok := awskey.AccountID(awstest.FakeKeyID("listed", n))
		if _, on := listed[got]; !ok || !on {
			t.Errorf("a key of listed account %s decodes to %q", account, got)
		}
	}
	own := awstest.FakeKeyID("ours", 210987654321)
	if got, _ := awskey.AccountID(own); got != "210987654321" {
		t.Fatalf("decodes to %s", got)
	}
	e := &Engine{Listed: listed}
	if w := e.keyWarnings(Canary{Account: "210987654321", AccessKeyID: own}); len(w) != 0 {
		t.Errorf("an account on no list: %v", w)
	}
	if w := e.keyWarnings(Canary{Account: "111111111111", AccessKeyID: own}); len(w) != 1 || !strings.Contains(w[0], "decodes to account 210987654321") {
		t.Errorf("a key id that decodes to another account must be said: %v", w)
	}
	if w := e.keyWarnings(Canary{Account: "052310077262"}); len(w) != 1 || !strings.Contains(w[0], "public list") {
		t.Errorf("a listed account must be said: %v", w)
	}
}

func TestUserOfARN(t *testing.T) {
	acct, path, user, ok := UserOfARN("arn:aws:iam::123456789012:user/service/svc-orders-sync")
	if !ok || acct != "123456789012" || path != "/service/" || user != "svc-orders-sync" {
		t.Errorf("got %s %s %s %v", acct, path, user, ok)
	}
	if _, path, user, _ := UserOfARN("arn:aws:iam::123456789012:user/laura.jensen"); path != "/" || user != "laura.jensen" {
		t.Errorf("got %s %s", path, user)
	}
}
