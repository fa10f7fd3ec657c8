package awstest

import (
	"os"
	"path/filepath"
	"testing"
)

// Required reports whether a missing test dependency (moto_server, the shared
// corpus) must fail the test instead of skipping it: CI sets KEYWARDEN_REQUIRE_MOTO=1.
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

// CorpusPath returns the path of rel inside the shared test corpus, which lives
// beside the repository (../shared/corpus). Skips or fails (see Required) when absent.
func CorpusPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(ModuleRoot(t), "..", "shared", "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		SkipOrFail(t, "shared corpus not found: "+p)
	}
	// Resolved: ../shared is often a symlink, and readers that resolve
	// links must name the same path the test does.
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}
