package scan

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestFindWrappedBase64AtEveryBreak moves a base64-encoded credentials file
// against the 76-column wrap of base64(1), so the encoded key-id prefix falls
// on every side of a line break: the run-pass gate must never lose it.
func TestFindWrappedBase64AtEveryBreak(t *testing.T) {
	id, sec := awstest.FakeKeyID("wrap", 123456789012), awstest.FakeSecret("wrap")
	d := NewDetector()
	for pad := 0; pad < 80; pad++ {
		plain := strings.Repeat("#", pad) + "\n" + awstest.CredentialsFile(id, sec)
		enc := base64.StdEncoding.EncodeToString([]byte(plain))
		var wrapped strings.Builder
		for i := 0; i < len(enc); i += 76 {
			wrapped.WriteString(enc[i:min(i+76, len(enc))] + "\r\n"[pad%2:])
		}
		ms := d.Find([]byte("data: |\n" + wrapped.String()))
		if !hasPair(ms, id, sec) {
			t.Errorf("pad %d: pair not found in wrapped base64: %+v", pad, flatten(ms))
		}
	}
}

// TestFindGateKeepsNamedLoneSecrets: with no key id and no base64, a lone
// secret is still found when, and only when, its name spells "secret".
func TestFindGateKeepsNamedLoneSecrets(t *testing.T) {
	sec := awstest.FakeSecret("gate")
	d := NewDetector()
	for _, name := range []string{"aws_secret_access_key = ", "SECRET_KEY=", "SecretAccessKey: "} {
		if ms := d.Find([]byte(name + sec + "\n")); len(ms) != 1 || ms[0].Rule != RuleSecretKey {
			t.Errorf("%q: got %+v, want one aws-secret-key", name, flatten(ms))
		}
	}
	if ms := d.Find([]byte("checksum = " + sec + "\n")); len(ms) != 0 {
		t.Errorf("unnamed 40-char value reported: %+v", flatten(ms))
	}
}

func hasPair(ms []Match, id, sec string) bool {
	for _, m := range ms {
		if m.Rule == RuleKeyPair && m.KeyID == id && m.Secret.Reveal() == sec {
			return true
		}
	}
	return false
}
