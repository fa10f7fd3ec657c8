package scan

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
)

// TestFindEncoded finds keys stored base64-encoded, URL-encoded and
// JSON-escaped, and says so in Match.Encoding.
func TestFindEncoded(t *testing.T) {
	id := awstest.FakeKeyID("enc", 123456789012)
	sec := secretWith(t, "/+")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	credFile := "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n"
	wrapped := wrap(b64(credFile+"region = eu-west-1\noutput = json\n"), 76)
	pairB64 := []got{{Rule: RuleKeyPair, KeyID: id, Secret: sec, Encoding: EncBase64}}
	tests := []struct {
		name string
		text string
		want []got
	}{
		{"kubernetes secret manifest", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws\ntype: Opaque\ndata:\n  aws_access_key_id: " +
			b64(id) + "\n  aws_secret_access_key: " + b64(sec) + "\n", pairB64},
		{"kubernetes values with trailing newline", "data:\n  AWS_ACCESS_KEY_ID: " + b64(id+"\n") + "\n  AWS_SECRET_ACCESS_KEY: " + b64(sec+"\n") + "\n", pairB64},
		{"base64 id beside plain secret", "id: " + b64(id) + "\naws_secret_access_key: " + sec + "\n", pairB64},
		{"whole credentials file on one line", "CREDS=" + b64(credFile) + "\n", pairB64},
		{"whole credentials file wrapped at 76", "credentials: |\n" + wrapped + "\n", pairB64},
		{"url-encoded secret in a query", "https://example.com/sign?AWSAccessKeyId=" + id + "&SecretAccessKey=" + url.QueryEscape(sec) + "&x=1\n",
			[]got{{Rule: RuleKeyPair, KeyID: id, Secret: sec, Encoding: EncURL}}},
		{"json-escaped slashes", `{"key":"` + id + `","secret":"` + strings.ReplaceAll(sec, "/", `\/`) + `"}`,
			[]got{{Rule: RuleKeyPair, KeyID: id, Secret: sec, Encoding: EncJSONEscaped}}},
		{"lone named base64 secret", "aws_secret_access_key: " + b64(sec) + "\n",
			[]got{{Rule: RuleSecretKey, Secret: sec, Encoding: EncBase64}}},
		{"unnamed base64 of 40 bytes is not a secret", "checksum: " + b64(sec) + "\n", nil},
	}
	d := NewDetector()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, flatten(d.Find([]byte(tt.text)))); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

func wrap(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width] + "\n")
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

// TestNeedlesCoverEveryAlignment checks the base64 needles: each prefix, at
// each of the 3 byte alignments, is recognised in encoded text.
func TestNeedlesCoverEveryAlignment(t *testing.T) {
	for _, id := range []string{awstest.FakeKeyID("n", 1), awstest.FakeSessionKeyID("n", 2), "ABIA" + awstest.FakeKeyID("n", 3)[4:], "ACCA" + awstest.FakeKeyID("n", 4)[4:]} {
		for pad := 0; pad < 3; pad++ {
			enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", pad) + id + "\n"))
			if !hasIDNeedle([]byte(enc)) {
				t.Errorf("%s… at alignment %d: needle not found in %s…", id[:4], pad, enc[:8])
			}
		}
	}
}
