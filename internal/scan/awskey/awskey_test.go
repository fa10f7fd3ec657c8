package awskey

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestAccountID decodes the account from ids built the way AWS lays it out,
// and refuses ids whose format does not carry it.
func TestAccountID(t *testing.T) {
	for _, acct := range []uint64{123456789012, 1, 999999999999, 210987654321} {
		for _, id := range []string{awstest.FakeKeyID("a", acct), awstest.FakeSessionKeyID("b", acct)} {
			got, ok := AccountID(id)
			if want := fmt.Sprintf("%012d", acct); !ok || got != want {
				t.Errorf("AccountID(%s) = %q, %v; want %q", id, got, ok, want)
			}
		}
	}
	for name, id := range map[string]string{
		"old AKIAI format":     "AKIAIOSFODNN7EXAMPLE",
		"old AKIAJ format":     "AKIAJ" + awstest.FakeKeyID("c", 1)[5:],
		"digit outside base32": "AKIAS9" + awstest.FakeKeyID("f", 1)[6:],
		"too short":            "AKIAQ",
		"not a credential id":  "AROA" + awstest.FakeKeyID("d", 1)[4:],
		"lower case":           strings.ToLower(awstest.FakeKeyID("e", 1)),
		"empty":                "",
	} {
		if got, ok := AccountID(id); ok {
			t.Errorf("%s: AccountID(%s) = %q, want refusal", name, id, got)
		}
	}
}

// TestParseKeyID accepts the four credential prefixes and nothing else.
func TestParseKeyID(t *testing.T) {
	body := awstest.FakeKeyID("p", 123456789012)[4:]
	tests := []struct {
		id   string
		want int
	}{
		{"AKIA" + body, KindLongTerm},
		{"ASIA" + body, KindTemporary},
		{"ABIA" + body, KindBearer},
		{"ACCA" + body, KindContext},
		{"AIDA" + body, KindNone},
		{"AROA" + body, KindNone},
		{"AIPA" + body, KindNone},
		{"ANPA" + body, KindNone},
		{"AGPA" + body, KindNone},
		{"AKIV" + body, KindNone},
		{"AKIA" + strings.ToLower(body), KindNone},
		{"AKIA" + body[:15], KindNone},
		{"AKIA" + body[:15] + "0", KindNone}, // 0, 1, 8, 9 are outside base32
		{"AKIA" + body[:8] + "1" + body[9:], KindNone},
		{"ASIA" + body[:1] + "8" + body[2:], KindNone},
		{"AKIAI" + body[1:15] + "9", KindNone},
		{"AKIAI" + body[1:], KindLongTerm},                    // older format: no account to check
		{awstest.FakeKeyID("p", 999999999999), KindLongTerm},  // the largest account
		{awstest.FakeKeyID("p", 1_000_000_000_000), KindNone}, // 13 digits: no account has it
		{awstest.FakeSessionKeyID("p", 1<<40-1), KindNone},    // the field's largest value
		{"AKIA" + awstest.FakeKeyID("p", 1_099_000_000_000)[4:], KindNone},
	}
	for _, tt := range tests {
		if got := ParseKeyID([]byte(tt.id)); got != tt.want {
			t.Errorf("ParseKeyID(%s) = %d, want %d", tt.id, got, tt.want)
		}
	}
}

// TestIsPlaceholderID tells documentation and typed placeholders from keys.
func TestIsPlaceholderID(t *testing.T) {
	for id, want := range map[string]bool{
		awstest.FakeKeyID("k", 123456789012):              false,
		awstest.FakeKeyID("l", 0)[:5] + "LALEMEL33243OLI": false, // letters and digits mixed, no pattern
		"AKIAIOSFODNN7EXAMPLE":                            true,
		"AKIAI44QH8DHBEXAMPLE":                            true,
		"AKIAXXXXXXXXXXXXXXXX":                            true,
		"AKIA0000000000000001":                            true,
		"AKIA1234567890ABCDEF":                            true,
	} {
		if got := IsPlaceholderID(id); got != want {
			t.Errorf("IsPlaceholderID(%s) = %v, want %v", id, got, want)
		}
	}
}

// TestLooksLikeSecret accepts random secrets and refuses other 40-character strings.
func TestLooksLikeSecret(t *testing.T) {
	h := sha1.Sum([]byte("x"))
	hexsum := hex.EncodeToString(h[:])
	for i := 0; i < 5000; i++ {
		if s := awstest.FakeSecret(fmt.Sprint(i)); !LooksLikeSecret(s) {
			t.Errorf("LooksLikeSecret(FakeSecret(%d)) = false, want true", i)
		}
	}
	for name, s := range map[string]string{
		"aws documentation": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"sha1 hex":          hexsum,
		"upper hex":         strings.ToUpper(hexsum),
		"identifier":        "AbstractSingletonProxyFactoryBeanHolders",
		"low entropy":       "cgGn4+gDgnriogn4g+34ig4bg34g44gg4Dox7c1M",
		"repeats":           "aaaaB3xyzQWERTYuiop1234567890ASDFGHjklZX",
		"placeholder words": "YourSecretAccessKeyGoesHere0123456789Abc",
		"path":              "usr/local/go/src/net/http/A/b/c/d/e/f/g1",
		"wrong length":      awstest.FakeSecret("w")[:39],
		"character outside": awstest.FakeSecret("w")[:39] + "-",
	} {
		if LooksLikeSecret(s) {
			t.Errorf("%s: LooksLikeSecret(%q) = true, want false", name, s)
		}
	}
}

// TestLooksLikeToken accepts session tokens and refuses short or flat strings.
func TestLooksLikeToken(t *testing.T) {
	if !LooksLikeToken(awstest.FakeSessionToken("t")) {
		t.Error("LooksLikeToken(FakeSessionToken) = false")
	}
	for _, s := range []string{awstest.FakeSessionToken("t")[:99], strings.Repeat("Ab1", 50)} {
		if LooksLikeToken(s) {
			t.Errorf("LooksLikeToken(%.10s…) = true", s)
		}
	}
}

// TestIsLookalikeID flags made-up ids and leaves real kinds alone.
func TestIsLookalikeID(t *testing.T) {
	body := awstest.FakeKeyID("l", 123456789012)[4:]
	for id, want := range map[string]bool{
		"AKIV" + body:                             true,
		"AKIAs9L8MS5iPHTZPPUQ":                    true,
		"AKIA" + body[:4] + "9" + body[5:]:        true,
		awstest.FakeKeyID("l", 1_000_000_000_000): true,
		"AKIA" + body:                             false,
		"ASCA" + body:                             false,
		"AROA" + body:                             false,
		"AKIA" + body[:10] + "-" + body[11:]:      false,
	} {
		if got := IsLookalikeID([]byte(id)); got != want {
			t.Errorf("IsLookalikeID(%s) = %v, want %v", id, got, want)
		}
	}
}
