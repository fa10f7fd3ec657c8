package scan

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestKeyIDStructure holds the detector to AWS's key id structure: 20
// characters, a credential prefix, 16 characters of base32 (A-Z, 2-7) that
// encode a possible account. A candidate that breaks any of it is no key id,
// whatever stands beside it; a 20-character look-alike (a credential prefix
// with 0, 1, 8 or 9, a wrong prefix) also marks the secret beside it as made up.
func TestKeyIDStructure(t *testing.T) {
	id := awstest.FakeKeyID("structure", 123456789012)
	body := id[4:]
	sec := awstest.FakeSecret("structure")
	blob := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("configuration blob, ", 8)))
	pair := func(id string) string {
		return "aws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n"
	}
	alone := func(id string) string { return "key: " + id + "\n" }
	tests := []struct {
		name, text string
		want       Rule // "" when nothing may be reported
	}{
		{"pair", pair(id), RuleKeyPair},
		{"id alone", alone(id), RuleKeyID},
		{"older format, no account in it", pair("AKIAI" + body[1:]), RuleKeyPair},
		{"bearer token prefix", pair("ABIA" + body), RuleKeyPair},
		{"largest account", alone(awstest.FakeKeyID("structure", 999999999999)), RuleKeyID},
		{"valid id beside a base64 blob", "blob=" + blob + " id=" + id + "\n", RuleKeyID},
		{"valid id right after a base64 blob", blob + "\n" + pair(id), RuleKeyPair},

		{"0 inside", pair("AKIA" + body[:15] + "0"), ""},
		{"1 inside", pair("AKIA" + body[:7] + "1" + body[8:]), ""},
		{"8 inside", alone("AKIA" + body[:3] + "8" + body[4:]), ""},
		{"9 inside, session prefix", pair("ASIA" + "9" + body[1:]), ""},
		{"0 inside, older format", pair("AKIAI" + body[1:15] + "0"), ""},
		{"wrong prefix AKIV", pair("AKIV" + body), ""},
		{"user unique id", alone("AIDA" + body), ""},
		{"role unique id", alone("AROA" + body), ""},
		{"certificate id", alone("ASCA" + body), ""},
		{"19 characters", alone(id[:19]), ""},
		{"21 characters", alone(id + "Q"), ""},
		{"lower case", alone(strings.ToLower(id)), ""},
		{"lower case body", pair("AKIA" + strings.ToLower(body)), ""},
		// Not 20 characters: no look-alike of a key id, so the named secret
		// beside it still leaks, alone.
		{"19 characters beside a secret", pair(id[:19]), RuleSecretKey},
		{"21 characters beside a secret", pair(id + "Q"), RuleSecretKey},
		{"lower case beside a secret", pair(strings.ToLower(id)), RuleSecretKey},
		{"13-digit account", pair(awstest.FakeKeyID("structure", 1_000_000_000_000)), ""},
		{"inside a base64 blob", "blob=" + blob[:40] + id + blob[40:] + "\n", ""},
	}
	d := NewDetector()
	for _, tt := range tests {
		ms := d.Find([]byte(tt.text))
		switch {
		case tt.want == "" && len(ms) > 0:
			t.Errorf("%s: %d matches (first %s %s), want none", tt.name, len(ms), ms[0].Rule, ms[0].KeyID)
		case tt.want != "" && (len(ms) != 1 || ms[0].Rule != tt.want || tt.want == RuleSecretKey && ms[0].KeyID != ""):
			t.Errorf("%s: %v, want one %s", tt.name, flatten(ms), tt.want)
		}
	}
}

// TestKeyIDStructureKeepsRecall: every id laid out as AWS lays it out, for
// accounts across the 12-digit range, in both formats, is found: the
// structure rules cost no real key. (Below 10^7 an account leaves runs of A
// in the id that the placeholder rule refuses; that rule predates these.)
func TestKeyIDStructureKeepsRecall(t *testing.T) {
	d := NewDetector()
	for i := uint64(0); i < 2000; i++ {
		account := 10_000_000 + i*499_999_999%999_990_000_000
		id := awstest.FakeKeyID(fmt.Sprint("recall", i), account)
		for _, id := range []string{id, "AKIAJ" + id[5:]} {
			ms := d.Find([]byte("key: " + id + "\n"))
			if len(ms) != 1 || ms[0].KeyID != id {
				t.Errorf("account %012d: %v, want %s found", account, flatten(ms), id)
			}
		}
	}
}
