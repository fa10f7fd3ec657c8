package source

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// testEnv is a scan.Env over the real detector that keeps what it got.
type testEnv struct {
	scan.Env
	col   *scan.Collector
	mu    sync.Mutex
	warns []string
}

func newTestEnv() *testEnv {
	te := &testEnv{col: &scan.Collector{}}
	te.Env = scan.Env{Detector: scan.NewDetector(), Sink: te.col, Stats: &scan.Stats{}}
	te.Env.Warn = func(err error) {
		te.mu.Lock()
		te.warns = append(te.warns, err.Error())
		te.mu.Unlock()
	}
	return te
}

func (te *testEnv) warnings() []string {
	te.mu.Lock()
	defer te.mu.Unlock()
	return slices.Clone(te.warns)
}

// hit is the part of a finding a source is responsible for.
type hit struct {
	Source, Path, KeyID string
}

func (te *testEnv) hits() []hit {
	var out []hit
	for _, f := range te.col.Findings() {
		out = append(out, hit{f.Source, f.Path, f.KeyID})
	}
	slices.SortFunc(out, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.Source, b.Source))
	})
	return out
}

// warnedAbout reports whether some warning contains every one of parts.
func (te *testEnv) warnedAbout(parts ...string) bool {
	for _, w := range te.warnings() {
		if containsAll(w, parts) {
			return true
		}
	}
	return false
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// creds returns a credentials-file style key pair for seed and its key id.
func creds(seed string) (content, keyID string) {
	id := awstest.FakeKeyID(seed, 123456789012)
	return fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, awstest.FakeSecret(seed)), id
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortHits(h []hit) {
	slices.SortFunc(h, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.Source, b.Source))
	})
}
