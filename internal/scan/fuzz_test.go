package scan

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
)

func fuzzSeeds() [][]byte {
	var out [][]byte
	id, sid, sec := awstest.FakeKeyID("fz", 123456789012), awstest.FakeSessionKeyID("fz", 1), awstest.FakeSecret("fz")
	for _, s := range []string{
		"", "A", "AKIA", "aws_secret_access_key = " + sec,
		"[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n",
		sid + "\n" + sec + "\n" + awstest.FakeSessionToken("fz"),
		"x: " + base64.StdEncoding.EncodeToString([]byte(id+":"+sec)),
		`{"k":"` + id + `","s":"a\/b%2F` + sec[:30] + `"}\n\\n` + id,
		id + "," + sec + "\n" + id + "," + sec + " keywarden:allow\n",
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzFind checks Find never panics and reports well-formed matches whose
// position agrees with the content.
func FuzzFind(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	d := NewDetector()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range d.Find(data) {
			if m.Offset < 0 || m.Offset > int64(len(data)) {
				t.Fatalf("offset %d out of range [0,%d]", m.Offset, len(data))
			}
			before := data[:m.Offset]
			line := bytes.Count(before, []byte{'\n'}) + 1
			col := len(before) - (bytes.LastIndexByte(before, '\n') + 1) + 1
			if m.Line != line || m.Column != col {
				t.Fatalf("position %d:%d, want %d:%d for offset %d", m.Line, m.Column, line, col, m.Offset)
			}
			switch m.Rule {
			case RuleKeyPair, RuleSession:
				if len(m.KeyID) != 20 || len(m.Secret.Reveal()) != 40 {
					t.Fatalf("malformed pair %q", m.KeyID)
				}
			case RuleKeyID:
				if len(m.KeyID) != 20 || !m.Secret.IsZero() {
					t.Fatalf("malformed id %q", m.KeyID)
				}
			case RuleSecretKey:
				if m.KeyID != "" || len(m.Secret.Reveal()) != 40 {
					t.Fatalf("malformed secret match")
				}
			default:
				t.Fatalf("unknown rule %q", m.Rule)
			}
		}
	})
}

// FuzzFindReaderEqualsFind checks that streaming with small windows reports
// exactly what Find reports.
func FuzzFindReaderEqualsFind(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint16(i*7))
	}
	d := smallDetector()
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		want := flattenFull(d.Find(data))
		// At most ~64 windows: each one re-reads its margins, and the point
		// is to move the edges, not to time out on large inputs.
		c := max(int(chunk%4096)+1, len(data)/64)
		ms, n := streamAll(t, d, bytes.NewReader(data), c)
		if n != int64(len(data)) {
			t.Fatalf("read %d of %d bytes", n, len(data))
		}
		if diff := cmp.Diff(want, flattenFull(ms)); diff != "" {
			t.Fatalf("stream differs from Find (-find +stream):\n%s", diff)
		}
	})
}
