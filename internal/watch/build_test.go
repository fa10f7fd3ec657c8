package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
)

func TestNewPipelinePrintsInItsFormatThenSendsToItsSinks(t *testing.T) {
	var stdout bytes.Buffer
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	p, err := NewPipeline(Config{Store: &detect.MemStore{}, Format: "text", Sinks: []string{"jsonl:" + path},
		SinkEnv: SinkEnv{Stdout: &stdout}, RateLimit: 1, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	root := cloudtrail.Event{EventID: "r1", EventTime: t0, EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin",
		UserIdentity: cloudtrail.UserIdentity{Type: "Root"}}
	other := root // another account's root: another alert
	other.EventID, other.EventTime, other.UserIdentity.ARN = "r2", t0.Add(time.Second), "arn:aws:iam::111122223333:root"
	if _, err := p.Judge(context.Background(), func(_ context.Context, sink cloudtrail.Sink) error {
		if err := sink(root); err != nil {
			return err
		}
		return sink(other)
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// One alert a minute per sink: the rest are summed up when the sink closes.
	if len(lines) < 2 || !strings.Contains(lines[len(lines)-1], SuppressedRule) || strings.Count(string(file), "\n") != len(lines) {
		t.Errorf("stdout:\n%s\nfile:\n%s\nwant the same alerts in both, the last a %s summary", stdout.String(), file, SuppressedRule)
	}
}

func TestNewPipelineRefusesBadRulesAndSinks(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - id: X\n    bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"a rule file":   {Rules: []string{bad}},
		"a sink":        {Sinks: []string{"text", "email:ops@example.com"}},
		"a format":      {Format: "yaml"},
		"a missing dir": {Rules: []string{filepath.Join(dir, "none")}},
	} {
		c.Store = &detect.MemStore{}
		if _, err := NewPipeline(c); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "a sink" && !errors.Is(err, ErrBadSink) {
			t.Errorf("%s: %v; want ErrBadSink", name, err)
		}
	}
}

func TestCatalogueHasTheBurstsAndBaselines(t *testing.T) {
	var ids []string
	for _, r := range Catalogue() {
		ids = append(ids, r.ID)
	}
	for _, want := range []string{"KW-CT-IAM-CREATE-USER", "KW-CT-ACCESS-DENIED-BURST", "KW-CT-RECON-BURST",
		"KW-CT-SES-SEND-VOLUME", "KW-CT-BASELINE-REGION"} {
		if !slices.Contains(ids, want) {
			t.Errorf("catalogue lacks %s", want)
		}
	}
}

func TestWriteCatalogueInEachFormat(t *testing.T) {
	var text, array, lines bytes.Buffer
	for w, format := range map[*bytes.Buffer]string{&text: "text", &array: "json", &lines: "jsonl"} {
		if err := WriteCatalogue(w, format); err != nil {
			t.Fatal(err)
		}
	}
	n := len(Catalogue())
	if !strings.HasPrefix(text.String(), "RULE ") || strings.Count(text.String(), "\n") != n+1 || !strings.Contains(text.String(), "KW-CT-RECON-BURST") {
		t.Errorf("text: want a header and a line per rule:\n%s", text.String())
	}
	var rules []map[string]any
	if err := json.Unmarshal(array.Bytes(), &rules); err != nil || len(rules) != n {
		t.Fatalf("json: %v, %d rules of %d", err, len(rules), n)
	}
	if r := rules[0]; r["rule"] == nil || r["severity"] == nil || r["technique"] == nil || r["title"] == nil {
		t.Errorf("json: rule, severity, technique and title: %v", r)
	}
	first, _, _ := strings.Cut(lines.String(), "\n")
	var one map[string]any
	if err := json.Unmarshal([]byte(first), &one); err != nil || strings.Count(lines.String(), "\n") != n || one["rule"] != rules[0]["rule"] {
		t.Errorf("jsonl: %v, want a line per rule, the same as json's:\n%s", err, lines.String())
	}
}

func TestStdoutFormat(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		given   bool
		sinks   []string
		follow  bool
		want    string
		wantErr string
	}{
		{"the default", "text", false, nil, false, "text", ""},
		{"sinks alone", "text", false, []string{"slack:https://hooks.example/x"}, false, "", ""},
		{"format and a sink", "jsonl", true, []string{"sns:arn:aws:sns:us-east-1:123456789012:alerts"}, true, "jsonl", ""},
		{"two printers", "jsonl", true, []string{"text"}, false, "", "both print alerts on stdout"},
		{"json followed", "json", true, nil, true, "", "--follow does not end"},
	}
	for _, tc := range tests {
		got, err := StdoutFormat(tc.format, tc.given, tc.sinks, tc.follow)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: %q, %v; want %q, %q", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestStratusTableNamesEveryMapping: docs/watch.md's Stratus Red Team
// table gives, for each technique a built-in rule names, that rule.
func TestStratusTableNamesEveryMapping(t *testing.T) {
	data, err := os.ReadFile("../../docs/watch.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if id, rest, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "` | "); ok && strings.HasPrefix(id, "aws.") {
			rows[id] = rest
		}
	}
	n := 0
	for _, r := range Catalogue() {
		for _, id := range r.Stratus {
			n++
			if !strings.Contains(rows[id], r.ID) {
				t.Errorf("docs/watch.md: technique %s: want %s in its row, got %q", id, r.ID, rows[id])
			}
		}
	}
	if n == 0 || len(rows) < 44 {
		t.Errorf("%d mappings, %d table rows: want every Stratus technique listed", n, len(rows))
	}
}

// TestAttackTableNamesEveryRule: docs/watch.md's ATT&CK table has a row
// for each built-in rule's technique that names the rule, and its
// figure counts the rows with a rule.
func TestAttackTableNamesEveryRule(t *testing.T) {
	data, err := os.ReadFile("../../docs/watch.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	rows := map[string]string{}
	covered := 0
	for _, line := range strings.Split(doc, "\n") {
		if id, rest, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "` | "); ok && strings.HasPrefix(id, "T1") {
			rows[id] = rest
			if !strings.Contains(rest, "| none:") {
				covered++
			}
		}
	}
	for _, r := range Catalogue() {
		if !strings.Contains(rows[r.Technique], r.ID) {
			t.Errorf("docs/watch.md: technique %s: want %s in its row, got %q", r.Technique, r.ID, rows[r.Technique])
		}
	}
	if want := fmt.Sprintf("**%d of the %d techniques below**", covered, len(rows)); !strings.Contains(doc, want) {
		t.Errorf("docs/watch.md: want the figure %q", want)
	}
	if want := fmt.Sprintf("**%d rules**", len(Catalogue())); !strings.Contains(doc, want) {
		t.Errorf("docs/watch.md: want the rule count %q", want)
	}
}
