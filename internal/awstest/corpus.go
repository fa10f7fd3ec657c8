package awstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Required reports whether a missing test dependency (moto_server, a corpus
// file) must fail the test instead of skipping it: CI sets KEYWARDEN_REQUIRE_MOTO=1.
func Required() bool {
	return os.Getenv("KEYWARDEN_REQUIRE_MOTO") == "1" || os.Getenv("CI") == "true"
}

// SkipOrFail skips the test with reason, or fails it where the dependency is required.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("required test dependency missing: %s", reason)
	}
	t.Skip(reason)
}

// ModuleRoot returns the directory holding go.mod, found upwards from the test's directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Corpus names one of the two labelled test corpora.
type Corpus string

const (
	// SharedCorpus is the larger set beside the repository, ../shared/corpus
	// (or KEYWARDEN_CORPUS): CI runs every accuracy test on it.
	SharedCorpus Corpus = "shared"
	// SmallCorpus is the subset in the repository, testdata/corpus, so that
	// a clean clone runs every accuracy test too.
	SmallCorpus Corpus = "small"
)

// CorpusEnv names the directory that replaces ../shared/corpus, relative to
// the module root unless absolute; pointing it at testdata/corpus runs the
// tests on the small corpus alone.
const CorpusEnv = "KEYWARDEN_CORPUS"

// CorpusPath returns the path of rel in the shared corpus when that holds it,
// else in the small one. Skips or fails (see Required) when neither does.
func CorpusPath(t testing.TB, rel string) string {
	t.Helper()
	p, _ := CorpusFile(t, rel)
	return p
}

// CorpusFile is CorpusPath that also says which corpus holds rel, for tests
// whose expectations (the totals of a whole set) differ between the two.
func CorpusFile(t testing.TB, rel string) (string, Corpus) {
	t.Helper()
	shared, small := corpusRoots(t)
	for _, dir := range []string{shared, small} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if dir == small {
			return p, SmallCorpus
		}
		return p, SharedCorpus
	}
	SkipOrFail(t, "corpus file not found: "+rel+" (neither in "+shared+" nor in "+small+")")
	return "", ""
}

// corpusRoots returns the shared corpus's directory (which may not exist)
// and the small one's, links resolved.
func corpusRoots(t testing.TB) (shared, small string) {
	t.Helper()
	root := ModuleRoot(t)
	shared = filepath.Join(root, "..", "shared", "corpus")
	if dir, ok := os.LookupEnv(CorpusEnv); ok {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("%s=%s: %v", CorpusEnv, os.Getenv(CorpusEnv), err)
		}
		shared = dir
	}
	return resolve(shared), resolve(filepath.Join(root, "testdata", "corpus"))
}

// resolve follows symlinks in dir where it exists: ../shared is often a
// link, and readers that resolve links must name the same path the test does.
func resolve(dir string) string {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return real
	}
	return filepath.Clean(dir)
}

// Rot18 rotates ASCII letters by 13 and digits by 5, leaving the rest alone.
// It is its own inverse. The small corpus stores its scan samples so
// encoded, so that no leak scanner (keywarden's own included) flags the
// repository for the fake keys in them; tests decode them with it.
func Rot18(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		case r >= '0' && r <= '9':
			return '0' + (r-'0'+5)%10
		}
		return r
	}, s)
}
