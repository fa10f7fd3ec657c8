package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestGoldenFiles(t *testing.T) {
	tests := []struct {
		name   string
		format string
		opts   Options
	}{
		{"scan.text", "text", Options{}},
		{"scan.text-color", "text", Options{Color: true}},
		{"scan.json", "json", Options{}},
		{"scan.json-show-secrets", "json", Options{ShowSecrets: true}},
		{"scan.jsonl", "jsonl", Options{}},
		{"scan.csv", "csv", Options{}},
		{"scan.sarif", "sarif", Options{Version: "1.2.3"}},
		{"empty.text", "text", Options{}},
		{"empty.json", "json", Options{}},
		{"empty.csv", "csv", Options{}},
		{"empty.sarif", "sarif", Options{Version: "1.2.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings := fixture()
			if strings.HasPrefix(tt.name, "empty") {
				findings = nil
			}
			awstest.Golden(t, tt.name+".golden", render(t, tt.format, findings, tt.opts))
		})
	}
}

// leakFixture holds generated key material that must never reach output.
func leakFixture() ([]scan.Finding, []string) {
	sec, tok := awstest.FakeSecret("leak"), awstest.FakeSessionToken("leak")
	f := finding(scan.RuleSession, awstest.FakeSessionKeyID("leak", 123456789012), sec,
		scan.Location{Source: "git", Path: "a.env", Commit: "abc", InHead: true}, 1, 1)
	f.SessionToken = secret.New(tok)
	lone := finding(scan.RuleSecretKey, "", sec, scan.Location{Source: "file", Path: "b.env"}, 2, 2)
	return []scan.Finding{f, lone}, []string{sec, tok}
}

func TestNoFormatLeaksSecretsUnlessAsked(t *testing.T) {
	findings, secrets := leakFixture()
	for _, format := range Formats {
		for _, color := range []bool{false, true} {
			out := render(t, format, findings, Options{Color: color})
			for _, s := range secrets {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%s (color %v) output holds a secret in clear", format, color)
				}
				// Any long run of the secret gives too much away, not only the whole value.
				if bytes.Contains(out, []byte(s[:12])) {
					t.Errorf("%s output holds the first 12 characters of a secret", format)
				}
			}
		}
	}
}

func TestShowSecretsWritesThemInClear(t *testing.T) {
	findings, secrets := leakFixture()
	for _, format := range []string{"text", "json", "jsonl", "csv"} {
		out := render(t, format, findings, Options{ShowSecrets: true})
		if !bytes.Contains(out, []byte(secrets[0])) {
			t.Errorf("%s with ShowSecrets lacks the secret", format)
		}
	}
	for _, format := range []string{"json", "jsonl", "csv"} {
		out := render(t, format, findings, Options{ShowSecrets: true})
		if format != "csv" && !bytes.Contains(out, []byte(secrets[1])) {
			t.Errorf("%s with ShowSecrets lacks the session token", format)
		}
	}
	// SARIF is made for upload: never in clear.
	if out := render(t, "sarif", findings, Options{ShowSecrets: true}); bytes.Contains(out, []byte(secrets[0])) {
		t.Error("sarif with ShowSecrets holds the secret in clear")
	}
}

func TestJSONKeepsDesignFieldOrder(t *testing.T) {
	out := render(t, "json", fixture()[:1], Options{})
	dec := json.NewDecoder(bytes.NewReader(out))
	for range 2 { // '[' then '{'
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for dec.More() { // every value is a scalar: tokens alternate key, value
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(scanColumns, keys); diff != "" {
		t.Errorf("json field order differs from docs/formats.md (-want +got):\n%s", diff)
	}
}

func TestJSONRoundTripsThroughFindingFields(t *testing.T) {
	out := render(t, "jsonl", fixture(), Options{})
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(fixture()) {
		t.Fatalf("got %d jsonl lines, want %d", len(lines), len(fixture()))
	}
	var got struct {
		Line     int    `json:"line"`
		InHead   bool   `json:"in_head"`
		Secret   string `json:"secret"`
		Verified string `json:"verified"`
		Date     string `json:"date"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
		t.Fatal(err)
	}
	want := got
	want.Line, want.Secret = 12, "wJal…"
	want.Verified, want.Date = "active", "2024-01-02T03:04:05Z"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second jsonl line (config/app.yml sorts second) (-want +got):\n%s", diff)
	}
}

func TestCSVEscapesUntrustedCells(t *testing.T) {
	out := render(t, "csv", fixture(), Options{})
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv output does not parse: %v", err)
	}
	if diff := cmp.Diff(scanCSVColumns(Options{}), rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	paths := map[string]bool{}
	for _, r := range rows[1:] {
		if len(r) != len(rows[0]) {
			t.Errorf("row has %d cells, want %d", len(r), len(rows[0]))
		}
		paths[r[8]] = true
	}
	for _, p := range []string{`docs/notes, "draft".md`, "'=backup.zip!etc/app.ini"} {
		if !paths[p] {
			t.Errorf("csv lost path %q; have %v", p, paths)
		}
	}
}

func TestTextColorOnlyWhenAsked(t *testing.T) {
	plain := render(t, "text", fixture(), Options{})
	if bytes.Contains(plain, []byte("\x1b[")) {
		t.Error("text without Color has ANSI escapes")
	}
	if colored := render(t, "text", fixture(), Options{Color: true}); !bytes.Contains(colored, []byte("\x1b[1;31mcritical")) {
		t.Error("text with Color does not color critical findings")
	}
}

func TestTextNeutralisesControlCharacters(t *testing.T) {
	f := finding(scan.RuleKeyID, exampleKeyID, "", scan.Location{Source: "file", Path: "evil\x1b[2J\nname"}, 1, 1)
	out := render(t, "text", []scan.Finding{f}, Options{})
	if bytes.Contains(out, []byte("\x1b")) || bytes.Contains(out, []byte("evil\n")) {
		t.Errorf("control characters from a path reached the terminal: %q", out)
	}
}

func TestUnknownFormatIsAnError(t *testing.T) {
	err := WriteScan(&bytes.Buffer{}, "xml", nil, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("got %v, want an unknown format error", err)
	}
}

// TestTextSaysWhatWasNotRead: with gaps, the text report does not say "no
// findings" alone: it says what could not be read, and the machine formats
// keep their shape (json an array, jsonl and csv rows only).
func TestTextSaysWhatWasNotRead(t *testing.T) {
	gaps := []gap.Gap{{Source: "logs/\x1b[2Jold.tgz", Reason: "truncated"}}
	var buf bytes.Buffer
	if err := WriteScan(&buf, "text", nil, gaps, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := "Not read, so what is above is incomplete:\n  logs/?[2Jold.tgz: truncated\n\nno findings in what was read; incomplete: 1 not read, listed above\n"; buf.String() != want {
		t.Errorf("text = %q, want %q", buf.String(), want)
	}
	buf.Reset()
	if err := WriteScan(&buf, "text", fixture()[:1], gaps, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "\nNot read, so what is above is incomplete:\n  logs/?[2Jold.tgz: truncated\n\n1 finding (1 high) in 1 file; incomplete: 1 not read, listed above\n") {
		t.Errorf("text with a finding and a gap ends %q", buf.String())
	}
	for _, format := range []string{"json", "jsonl", "csv"} {
		buf.Reset()
		if err := WriteScan(&buf, format, nil, gaps, Options{}); err != nil {
			t.Fatal(err)
		}
		if want := string(render(t, format, nil, Options{})); buf.String() != want {
			t.Errorf("%s with gaps = %q, want the same as without %q (the warnings and exit 3 say it)", format, buf.String(), want)
		}
	}
}
