package rulelang

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeRules writes files (name to text) under a fresh directory.
func writeRules(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	teamRules  = "rules:\n  - id: TEAM-A\n    match: {eventName: CreateUser}\n  - id: TEAM-B\n    match: {eventName: DeleteUser}\n"
	sigmaOther = "title: process\nid: win-1\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image: x}, condition: sel}\n"
)

func TestLoadReadsADirectoryOfBothLanguages(t *testing.T) {
	dir := writeRules(t, map[string]string{
		"team.yaml":          teamRules,
		"sigma/stop.yml":     sigmaStopLogging,
		"sigma/windows.YML":  sigmaOther,
		"sigma/README.md":    "not a rule",
		"sigma/notes.yml.gz": "not a rule either",
	})
	var skips []string
	rules, err := Load(dir, func(err error) {
		var skip *SigmaSkip
		if !errors.As(err, &skip) {
			t.Errorf("warning %v is not a SigmaSkip", err)
		}
		skips = append(skips, filepath.Base(skip.File)+" "+skip.Rule)
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID+" "+filepath.Base(r.Source))
	}
	// Files load in path order; a rules file's source carries the line.
	want := []string{"SIGMA-0e0b1c0c-6a52-4b38-9d39-kw0000000001 stop.yml", "TEAM-A team.yaml:2", "TEAM-B team.yaml:4"}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"windows.YML win-1"}, skips); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
}

func TestLoadReadsOneFile(t *testing.T) {
	dir := writeRules(t, map[string]string{"team.yaml": teamRules, "other.yaml": "rules: [{id: X, match: {a: b}}]"})
	rules, err := Load(filepath.Join(dir, "team.yaml"), nil)
	if err != nil || len(rules) != 2 {
		t.Fatalf("Load = %d rules, %v; want the file's 2", len(rules), err)
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"an id defined in two files", map[string]string{"a.yml": teamRules, "b.yml": "rules: [{id: TEAM-B, match: {a: b}}]"},
			"b.yml:1: rule id TEAM-B already defined at "},
		{"a broken rules file", map[string]string{"a.yml": "rules: [{id: A}]"}, "a.yml:1: rule A: no match block"},
		{"a file too large", map[string]string{"a.yml": "rules: []\n" + strings.Repeat("#", maxRuleFile)}, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeRules(t, tt.files), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing"), nil); err == nil || !strings.HasPrefix(err.Error(), "read rules: ") {
		t.Errorf("missing path: error = %v", err)
	}
}

func TestParseErrorNamesFileAndLine(t *testing.T) {
	_, err := Parse("team.yml", []byte("rules:\n  - id: A\n    match: {eventName: {regex: '('}}\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "team.yml" || pe.Line != 3 {
		t.Errorf("error = %#v, want a ParseError at team.yml:3", err)
	}
}
