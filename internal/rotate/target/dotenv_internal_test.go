package target

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
)

func testVals(seed string) [2][2]string {
	return [2][2]string{{varKeyID, awstest.FakeKeyID(seed, 123456789012)}, {varSecret, awstest.FakeSecret(seed)}}
}

func TestEditDotenv(t *testing.T) {
	v := testVals("new")
	id, sec := v[0][1], v[1][1]
	tests := []struct {
		name, in, want string
	}{
		{
			name: "replaces plain values and keeps every other line",
			in:   "# deploy\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID=old\n\nAWS_SECRET_ACCESS_KEY=oldsecret\nOTHER=1\n",
			want: "# deploy\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID=" + id + "\n\nAWS_SECRET_ACCESS_KEY=" + sec + "\nOTHER=1\n",
		},
		{
			name: "keeps CRLF endings",
			in:   "A=1\r\nAWS_ACCESS_KEY_ID=old\r\nAWS_SECRET_ACCESS_KEY=old\r\n",
			want: "A=1\r\nAWS_ACCESS_KEY_ID=" + id + "\r\nAWS_SECRET_ACCESS_KEY=" + sec + "\r\n",
		},
		{
			name: "keeps export prefix and quote style",
			in:   "export AWS_ACCESS_KEY_ID=\"old\"\n  export\tAWS_SECRET_ACCESS_KEY = 'old' # rotated by hand\n",
			want: "export AWS_ACCESS_KEY_ID=\"" + id + "\"\n  export\tAWS_SECRET_ACCESS_KEY = '" + sec + "' # rotated by hand\n",
		},
		{
			name: "keeps an inline comment after an unquoted value",
			in:   "AWS_ACCESS_KEY_ID=old   # ci user\nAWS_SECRET_ACCESS_KEY=old",
			want: "AWS_ACCESS_KEY_ID=" + id + "   # ci user\nAWS_SECRET_ACCESS_KEY=" + sec,
		},
		{
			name: "appends missing lines without adding a final newline",
			in:   "A=1\nAWS_ACCESS_KEY_ID=old",
			want: "A=1\nAWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec,
		},
		{
			name: "appends in the file's CRLF and export style",
			in:   "export A=1\r\n",
			want: "export A=1\r\nexport AWS_ACCESS_KEY_ID=" + id + "\r\nexport AWS_SECRET_ACCESS_KEY=" + sec + "\r\n",
		},
		{
			name: "creates both lines in an empty file",
			in:   "",
			want: "AWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\n",
		},
		{
			name: "updates every assignment of a repeated key",
			in:   "AWS_ACCESS_KEY_ID=a\nAWS_ACCESS_KEY_ID=b\nAWS_SECRET_ACCESS_KEY=\n",
			want: "AWS_ACCESS_KEY_ID=" + id + "\nAWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\n",
		},
		{
			name: "leaves commented-out and look-alike keys alone",
			in:   "# AWS_ACCESS_KEY_ID=x\nMY_AWS_ACCESS_KEY_ID=y\nAWS_ACCESS_KEY_ID_OLD=z\n",
			want: "# AWS_ACCESS_KEY_ID=x\nMY_AWS_ACCESS_KEY_ID=y\nAWS_ACCESS_KEY_ID_OLD=z\nAWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\n",
		},
		{
			name: "closes an unterminated quote",
			in:   "AWS_ACCESS_KEY_ID=\"old\nAWS_SECRET_ACCESS_KEY=\"a\\\"b\" # x\n",
			want: "AWS_ACCESS_KEY_ID=\"" + id + "\"\nAWS_SECRET_ACCESS_KEY=\"" + sec + "\" # x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(editDotenv([]byte(tt.in), v))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("editDotenv (-want +got):\n%s", diff)
			}
			if again := string(editDotenv([]byte(got), v)); again != got {
				t.Errorf("second edit changed the file:\n%q\n%q", got, again)
			}
		})
	}
}

// FuzzEditDotenv: on any input the edit terminates, keeps the bytes of lines
// it does not assign to, yields a file that reads back with the new values,
// and is idempotent.
func FuzzEditDotenv(f *testing.F) {
	for _, s := range []string{"", "A=1\n", "export AWS_ACCESS_KEY_ID='x'\r\n", "AWS_SECRET_ACCESS_KEY=\"a\\", "=\n#\n", "AWS_ACCESS_KEY_ID=x # c"} {
		f.Add([]byte(s))
	}
	v := testVals("fuzz")
	f.Fuzz(func(t *testing.T, in []byte) {
		out := editDotenv(in, v)
		if again := editDotenv(out, v); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
		if kept, others := otherLines(string(in)), otherLines(string(out)); !slices.Equal(kept, others[:min(len(kept), len(others))]) {
			t.Fatalf("lines that do not assign the keys changed:\n%q\n%q", kept, others)
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			a, ok := parseAssign(strings.TrimSuffix(line, "\r"))
			if !ok {
				continue
			}
			for _, kv := range v {
				if a.key == kv[0] {
					seen[kv[0]] = true
					if got := strings.TrimSuffix(line, "\r")[a.start:a.end]; got != kv[1] {
						t.Fatalf("%s reads back as %q in %q", kv[0], got, out)
					}
				}
			}
		}
		if !seen[varKeyID] || !seen[varSecret] {
			t.Fatalf("a variable is missing from %q", out)
		}
	})
}

// otherLines are the lines of s that do not assign one of the keys.
func otherLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if a, ok := parseAssign(strings.TrimSuffix(line, "\r")); ok && (a.key == varKeyID || a.key == varSecret) {
			continue
		}
		// A last line without a newline gets the file's line ending when
		// lines are appended after it; compare the lines without their CR.
		out = append(out, strings.TrimRight(line, "\r"))
	}
	return out
}

func BenchmarkEditDotenv(b *testing.B) {
	var src strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&src, "export VAR_%d=\"value %d\" # comment\n", i, i)
	}
	src.WriteString("AWS_ACCESS_KEY_ID=old\nAWS_SECRET_ACCESS_KEY=old\n")
	in, v := []byte(src.String()), testVals("bench")
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		editDotenv(in, v)
	}
}
