package git

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// key is one fake credential and the file that holds it.
type key struct{ id, secret, file string }

func newKey(seed string) key {
	id, secret := awstest.FakeKeyID(seed, 123456789012), awstest.FakeSecret(seed)
	return key{id: id, secret: secret, file: awstest.CredentialsFile(id, secret)}
}

// got is the part of a finding these tests compare.
type got struct {
	Rule   scan.Rule
	KeyID  string
	Path   string
	Commit string
	Author string
	Date   time.Time
	InHead bool
}

// scanRepo runs ScanRepo and returns its findings and warnings.
func scanRepo(t *testing.T, dir string, opts Options) ([]got, []error) {
	t.Helper()
	var sink scan.Collector
	var warns []error
	env := scan.Env{Detector: scan.NewDetector(), Sink: &sink, Stats: &scan.Stats{},
		Warn: func(err error) { warns = append(warns, err) }}
	if err := ScanRepo(context.Background(), dir, opts, env); err != nil {
		t.Fatalf("ScanRepo: %v", err)
	}
	return summarize(sink.Findings()), warns
}

func summarize(fs []scan.Finding) []got {
	var out []got
	for _, f := range fs {
		out = append(out, got{f.Rule, f.KeyID, f.Path, f.Commit, f.Author, f.Date.UTC(), f.InHead})
	}
	return out
}

const author = awstest.GitAuthorName + " <" + awstest.GitAuthorEmail + ">"

func pairAt(r *awstest.GitRepo, k key, path, commit string, n int, inHead bool) got {
	return got{scan.RuleKeyPair, k.id, path, commit, author, r.Date(n), inHead}
}

func TestScanRepoFindsKeysAnywhereInHistory(t *testing.T) {
	tests := []struct {
		name  string
		build func(r *awstest.GitRepo, k key) []got
	}{
		{"key added then deleted", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			c := r.CommitFile("deploy/creds", k.file, "add creds")
			r.Remove("deploy/creds")
			r.Commit("remove creds")
			return []got{pairAt(r, k, "deploy/creds", c, 2, false)}
		}},
		{"key still in HEAD", func(r *awstest.GitRepo, k key) []got {
			c := r.CommitFile("creds", k.file, "add creds")
			return []got{pairAt(r, k, "creds", c, 1, true)}
		}},
		{"key only on an unmerged branch", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Git("checkout", "-q", "-b", "feature")
			c := r.CommitFile("creds", k.file, "add creds")
			r.Git("checkout", "-q", "main")
			return []got{pairAt(r, k, "creds", c, 2, false)}
		}},
		{"key in an older stash entry", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Write("README", "hello\n"+k.file)
			r.Git("stash", "-q")
			r.Write("README", "just a change\n")
			r.Git("stash", "-q")
			stash := r.Git("rev-parse", "stash@{1}")
			return []got{pairAt(r, k, "README", stash, 2, false)}
		}},
		{"key only in a dangling commit", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Git("checkout", "-q", "-b", "gone")
			c := r.CommitFile("creds", k.file, "add creds")
			r.Git("checkout", "-q", "main")
			r.Git("branch", "-q", "-D", "gone")
			r.Git("reflog", "expire", "--expire=now", "--all")
			return []got{pairAt(r, k, "creds", c, 2, false)}
		}},
		{"key only under an annotated tag no branch reaches", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Git("checkout", "-q", "-b", "release")
			c := r.CommitFile("creds", k.file, "add creds")
			r.Git("tag", "-a", "-m", "release", "v1")
			r.Git("checkout", "-q", "main")
			r.Git("branch", "-q", "-D", "release")
			return []got{pairAt(r, k, "creds", c, 2, false)}
		}},
		{"key in a blob a tag points at", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Write("blob.txt", k.file)
			blob := r.Git("hash-object", "-w", "blob.txt")
			r.Remove("blob.txt")
			r.Git("tag", "keyblob", blob)
			return []got{{scan.RuleKeyPair, k.id, "<refs/tags/keyblob>", "", "", time.Time{}, false}}
		}},
		{"key in a dangling blob", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Write("blob.txt", k.file)
			blob := r.Git("hash-object", "-w", "blob.txt")
			r.Remove("blob.txt")
			return []got{{scan.RuleKeyPair, k.id, "<blob " + blob[:12] + ">", "", "", time.Time{}, false}}
		}},
		{"key only staged is at its path in the index", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			r.Write("config/creds", k.file)
			r.Git("add", "config/creds")
			return []got{{scan.RuleKeyPair, k.id, "config/creds", "", "", time.Time{}, false}}
		}},
		{"key staged before the first commit", func(r *awstest.GitRepo, k key) []got {
			r.Write("creds", k.file)
			r.Git("add", "creds")
			return []got{{scan.RuleKeyPair, k.id, "creds", "", "", time.Time{}, false}}
		}},
		{"one key in many commits is one finding at its first commit", func(r *awstest.GitRepo, k key) []got {
			r.CommitFile("README", "hello\n", "init")
			first := r.CommitFile("creds", k.file, "add creds")
			for i := range 5 {
				r.CommitFile("creds", k.file+strings.Repeat("# more\n", i+1), "edit")
			}
			return []got{pairAt(r, k, "creds", first, 2, true)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := awstest.NewGitRepo(t)
			want := tt.build(r, newKey(tt.name))
			findings, warns := scanRepo(t, r.Dir, Options{})
			if diff := cmp.Diff(want, findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if len(warns) != 0 {
				t.Errorf("warnings: %v", warns)
			}
		})
	}
}

func TestScanRepoWorksOnBareClones(t *testing.T) {
	r := awstest.NewGitRepo(t)
	k := newKey("bare")
	c := r.CommitFile("creds", k.file, "add creds")
	bare := t.TempDir()
	r.Git("clone", "-q", "--bare", r.Dir, bare)
	if !IsRepo(bare) || !IsRepo(r.Dir) {
		t.Fatalf("IsRepo: bare %v, work tree %v", IsRepo(bare), IsRepo(r.Dir))
	}
	findings, _ := scanRepo(t, bare, Options{})
	if diff := cmp.Diff([]got{pairAt(r, k, "creds", c, 1, true)}, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestScanRepoSkipsAllowlistedPathsAndBinaryBlobs(t *testing.T) {
	r := awstest.NewGitRepo(t)
	k := newKey("skip")
	r.Write("fixtures/creds", k.file)
	r.Write("image.bin", "\x00\x01"+k.file)
	r.Commit("add")
	var sink scan.Collector
	stats := &scan.Stats{}
	env := scan.Env{Detector: scan.NewDetector(), Sink: &sink, Stats: stats, Warn: func(error) {}}
	skip := func(p string) bool { return strings.HasPrefix(p, "fixtures/") }
	if err := ScanRepo(context.Background(), r.Dir, Options{Skip: skip}, env); err != nil {
		t.Fatal(err)
	}
	if fs := sink.Findings(); len(fs) != 0 {
		t.Errorf("findings = %v, want none", summarize(fs))
	}
	if n := stats.Skipped.Load(); n != 1 {
		t.Errorf("skipped = %d, want 1 (the binary blob)", n)
	}
	if n := stats.Objects.Load(); n != 1 {
		t.Errorf("scanned = %d blobs, want 1", n)
	}
}

func TestScanRepoWarnsOnceAboutMissingObjects(t *testing.T) {
	r := awstest.NewGitRepo(t)
	k := newKey("missing")
	r.CommitFile("lost.txt", "this blob will be lost\n", "lost")
	c := r.CommitFile("creds", k.file, "add creds")
	lost := r.Git("rev-parse", "HEAD:lost.txt")
	if err := os.Remove(r.ObjectPath(lost)); err != nil {
		t.Fatal(err)
	}
	findings, warns := scanRepo(t, r.Dir, Options{})
	if diff := cmp.Diff([]got{pairAt(r, k, "creds", c, 2, true)}, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Error(), lost[:12]) || !strings.Contains(warns[0].Error(), "1 objects") {
		t.Errorf("warnings = %v, want one naming %s", warns, lost[:12])
	}
}

func TestScanRepoRejectsWhatIsNotARepository(t *testing.T) {
	dir := t.TempDir()
	env := scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}, Stats: &scan.Stats{}}
	err := ScanRepo(context.Background(), dir, Options{}, env)
	if err == nil || !strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), "\n") {
		t.Errorf("ScanRepo(plain dir) = %v, want a one-line error naming %s", err, dir)
	}
	if IsRepo(dir) {
		t.Errorf("IsRepo(plain dir) = true")
	}
}

func TestScanRepoStopsWhenCancelled(t *testing.T) {
	r := awstest.NewGitRepo(t)
	r.CommitFile("a", "a\n", "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}, Stats: &scan.Stats{}}
	if err := ScanRepo(ctx, r.Dir, Options{}, env); !errors.Is(err, context.Canceled) && err == nil {
		t.Errorf("ScanRepo(cancelled) = nil, want an error")
	}
}
