package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/scan"
)

// key is a fake key pair made at run time, and a credentials file holding it.
type key struct{ id, secret, file string }

func newKey(seed string) key {
	id, sec := awstest.FakeKeyID(seed, 123456789012), awstest.FakeSecret(seed)
	return key{id: id, secret: sec, file: awstest.CredentialsFile(id, sec)}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// collect runs Findings and returns each finding as "KEY source:path",
// the keys named by their seeds.
func collect(t *testing.T, opts Options, keys ...key) []string {
	t.Helper()
	res, err := Findings(context.Background(), opts)
	if err != nil {
		t.Fatalf("Findings: %v", err)
	}
	if len(res.Gaps) > 0 {
		t.Errorf("gaps: %v", res.Gaps)
	}
	return places(res.Findings, keys...)
}

func places(found []scan.Finding, keys ...key) []string {
	out := []string{}
	for _, f := range found {
		name := f.KeyID
		for i, k := range keys {
			if k.id == f.KeyID {
				name = fmt.Sprintf("k%d", i)
			}
		}
		out = append(out, fmt.Sprintf("%s %s %s:%s", name, f.Rule, f.Source, f.Path))
	}
	return out
}

func TestFindingsOfFilesAndARepository(t *testing.T) {
	dir := t.TempDir()
	k0, k1, k2 := newKey("file"), newKey("committed"), newKey("untracked")
	write(t, filepath.Join(dir, "loose.credentials"), k0.file)
	r := awstest.NewGitRepo(t)
	r.CommitFile("config/creds", k1.file, "add creds")
	r.Write("notes/creds", k2.file)

	got := collect(t, Options{Paths: []string{r.Dir, filepath.Join(dir, "loose.credentials")}}, k0, k1, k2)
	loose := filepath.ToSlash(filepath.Join(dir, "loose.credentials"))
	want := []string{
		"k0 aws-access-key-pair file:" + loose,
		"k2 aws-access-key-pair file:" + filepath.ToSlash(r.Dir) + "/notes/creds",
		// k1 is in the history and in the work tree: once, named by its commit.
		"k1 aws-access-key-pair git:config/creds",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	got = collect(t, Options{Paths: []string{r.Dir}, NoGit: true}, k0, k1, k2)
	want = []string{
		"k1 aws-access-key-pair file:" + filepath.ToSlash(r.Dir) + "/config/creds",
		"k2 aws-access-key-pair file:" + filepath.ToSlash(r.Dir) + "/notes/creds",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--no-git findings (-want +got):\n%s", diff)
	}
}

func TestFindingsHonourTheAllowlist(t *testing.T) {
	dir := t.TempDir()
	k0, k1, k2 := newKey("fixture"), newKey("allowed"), newKey("real")
	write(t, filepath.Join(dir, "fixtures/creds"), k0.file)
	write(t, filepath.Join(dir, "app/allowed.credentials"), k1.file)
	write(t, filepath.Join(dir, "app/real.credentials"), k2.file)
	write(t, filepath.Join(dir, ".keywarden.toml"), fmt.Sprintf("[allow]\npaths = [\"fixtures/**\"]\nkey_ids = [%q]\n", k1.id))
	want := []string{"k2 aws-access-key-pair file:" + filepath.ToSlash(dir) + "/app/real.credentials"}
	if diff := cmp.Diff(want, collect(t, Options{Paths: []string{dir}}, k0, k1, k2)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// --config names another file: the root's is not read.
	other := filepath.Join(t.TempDir(), "allow.toml")
	write(t, other, "[allow]\npaths = [\"app/**\", \".keywarden.toml\"]\n")
	want = []string{"k0 aws-access-key-pair file:" + filepath.ToSlash(dir) + "/fixtures/creds"}
	if diff := cmp.Diff(want, collect(t, Options{Paths: []string{dir}, Config: other}, k0, k1, k2)); diff != "" {
		t.Errorf("--config findings (-want +got):\n%s", diff)
	}
}

func TestFindingsLeaveOutTheBaseline(t *testing.T) {
	dir := t.TempDir()
	k0, k1 := newKey("known"), newKey("new")
	write(t, filepath.Join(dir, "a.credentials"), k0.file)
	first, err := Findings(context.Background(), Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "jsonl", "sarif"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteScan(&buf, format, first.Findings, nil, report.Options{}); err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(t.TempDir(), "base."+format)
			write(t, base, buf.String())
			if got := collect(t, Options{Paths: []string{dir}, Baseline: base}, k0, k1); len(got) != 0 {
				t.Errorf("nothing new since the baseline, got %v", got)
			}
			write(t, filepath.Join(dir, "b.credentials"), k1.file)
			defer os.Remove(filepath.Join(dir, "b.credentials"))
			want := []string{"k1 aws-access-key-pair file:" + filepath.ToSlash(dir) + "/b.credentials"}
			if diff := cmp.Diff(want, collect(t, Options{Paths: []string{dir}, Baseline: base}, k0, k1)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingsOfStdinStagedAndACommitMessage(t *testing.T) {
	k0, k1, k2 := newKey("stdin"), newKey("committed"), newKey("staged")
	got := collect(t, Options{Paths: []string{"-"}, Stdin: strings.NewReader("log line\n" + k0.file)}, k0)
	if diff := cmp.Diff([]string{"k0 aws-access-key-pair stdin:-"}, got); diff != "" {
		t.Errorf("stdin (-want +got):\n%s", diff)
	}

	r := awstest.NewGitRepo(t)
	r.CommitFile("old/creds", k1.file, "an old leak")
	r.Write("new/creds", k2.file)
	r.Git("add", "new/creds")
	got = collect(t, Options{Paths: []string{r.Dir}, Staged: true}, k1, k2)
	if diff := cmp.Diff([]string{"k1 aws-access-key-pair git:new/creds"}, got); diff != "" {
		t.Errorf("staged (-want +got):\n%s", diff)
	}

	msg := filepath.Join(t.TempDir(), "COMMIT_EDITMSG")
	write(t, msg, "deploy: use "+k0.id+" with "+k0.secret+"\n")
	got = collect(t, Options{CommitMsg: msg}, k0)
	if diff := cmp.Diff([]string{"k0 aws-access-key-pair file:" + filepath.ToSlash(msg)}, got); diff != "" {
		t.Errorf("commit message (-want +got):\n%s", diff)
	}
}

// TestFindingsOfAWebSite: a site serving a .env that holds a key gives the
// exposure and the key.
func TestFindingsOfAWebSite(t *testing.T) {
	k0 := newKey("site")
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.env" {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("APP_ENV=production\nAWS_ACCESS_KEY_ID=" + k0.id + "\nAWS_SECRET_ACCESS_KEY=" + k0.secret + "\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer site.Close()
	got := collect(t, Options{URLs: []string{site.URL + "/"}}, k0)
	want := []string{
		" exposed-sensitive-file url:" + site.URL + "/.env", // line 0: the file, then what it holds
		"k0 aws-access-key-pair url:" + site.URL + "/.env",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestFindingsCountAndWarn(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "broken.zip"), "PK\x03\x04 this is not a zip archive")
	write(t, filepath.Join(dir, "README"), "nothing here\n")
	var warnings []string
	stats := &scan.Stats{}
	res, err := Findings(context.Background(), Options{Paths: []string{dir}, Stats: stats,
		Warn: func(err error) { warnings = append(warnings, err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Objects.Load() == 0 || stats.Bytes.Load() == 0 {
		t.Errorf("nothing counted: %d objects, %d bytes", stats.Objects.Load(), stats.Bytes.Load())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "broken.zip") {
		t.Errorf("warnings %q, want one naming broken.zip", warnings)
	}
	broken := filepath.ToSlash(filepath.Join(dir, "broken.zip"))
	if len(res.Gaps) != 1 || res.Gaps[0].Source != broken || !strings.Contains(res.Gaps[0].Reason, "zip") {
		t.Errorf("gaps %+v, want one of %s", res.Gaps, broken)
	}
}

func TestFindingsErrorsNameTheInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	write(t, garbage, "this is not a report")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name    string
		opts    Options
		want    string
		noInput bool
	}{
		{"a PATH that does not exist", Options{Paths: []string{missing}}, "scan " + missing + ": no such file or directory", true},
		{"a baseline that does not exist", Options{Paths: []string{dir}, Baseline: missing}, "read baseline " + missing + ": no such file or directory", false},
		{"a baseline that is not a report", Options{Paths: []string{dir}, Baseline: garbage}, "read baseline " + garbage + ": ", false},
		{"an allowlist that does not exist", Options{Paths: []string{dir}, Config: missing}, missing, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Findings(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if errors.Is(err, ErrNoInput) != tt.noInput {
				t.Errorf("errors.Is(%v, ErrNoInput) = %v, want %v", err, !tt.noInput, tt.noInput)
			}
		})
	}
}

// TestFindingsGoOnPastWhatCannotBeRead: an input that cannot be listed, a
// file that cannot be opened and a truncated archive are gaps, each named
// with its reason, and every other input is still scanned.
func TestFindingsGoOnPastWhatCannotBeRead(t *testing.T) {
	if !awstest.PermissionsEnforced(t) {
		return
	}
	dir := t.TempDir()
	k0 := newKey("readable")
	write(t, filepath.Join(dir, "good/app.credentials"), k0.file)
	write(t, filepath.Join(dir, "good/locked.env"), "x")
	write(t, filepath.Join(dir, "locked/x.env"), "x")
	write(t, filepath.Join(dir, "cut.gz"), "\x1f\x8b\x08\x00\x00")
	awstest.Unreadable(t, filepath.Join(dir, "good/locked.env"), filepath.Join(dir, "locked"))
	var warned []string
	res, err := Findings(context.Background(), Options{
		Paths: []string{filepath.Join(dir, "good"), filepath.Join(dir, "locked"), filepath.Join(dir, "cut.gz")},
		Warn:  func(err error) { warned = append(warned, err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	slash := filepath.ToSlash(dir)
	if diff := cmp.Diff([]string{"k0 aws-access-key-pair file:" + slash + "/good/app.credentials"}, places(res.Findings, k0)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	want := []gap.Gap{
		{Source: slash + "/good/locked.env", Reason: "permission denied"},
		{Source: filepath.Join(dir, "locked"), Reason: "permission denied"},
		{Source: slash + "/cut.gz", Reason: "truncated: the input ends at byte 5 (read gzip: unexpected EOF)"},
	}
	if diff := cmp.Diff(want, res.Gaps); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
	if len(warned) != len(want) {
		t.Errorf("warned %q, want each gap once", warned)
	}
}
