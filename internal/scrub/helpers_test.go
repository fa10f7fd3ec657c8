package scrub

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/secret"
)

// key is a fake long-term key pair built at run time.
type key struct {
	id  string
	sec string
}

func newKey(seed string) key {
	return key{id: awstest.FakeKeyID(seed, 123456789012), sec: awstest.FakeSecret(seed)}
}

// write creates home/rel (and its directories) holding content.
func write(t testing.TB, home, rel, content string) string {
	t.Helper()
	p := filepath.Join(home, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// symlink makes link point at target, skipping where links are unsupported.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
}

// warnings collects what Scan warns about.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	w.msgs = append(w.msgs, err.Error())
	w.mu.Unlock()
}

func (w *warnings) about(parts ...string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
outer:
	for _, m := range w.msgs {
		for _, p := range parts {
			if !strings.Contains(m, p) {
				continue outer
			}
		}
		return true
	}
	return false
}

// scanHome runs Scan over home with no extra dirs and fails on error.
func scanHome(t *testing.T, home string, extra ...string) ([]Found, *warnings) {
	t.Helper()
	w := &warnings{}
	got, err := Scan(context.Background(), home, extra, w.add)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return got, w
}

// foundOpts compare secrets by value.
var foundOpts = cmp.Options{
	cmp.Comparer(func(a, b secret.Secret) bool { return a.Reveal() == b.Reveal() }),
}

// pairFound is the Found of a full long-term pair.
func pairFound(path string, line int, k key, profiles ...string) Found {
	f := Found{Path: path, Rule: "aws-access-key-pair", Line: line, AccessKeyID: k.id,
		SecretAccessKey: secret.New(k.sec), Importable: true}
	if len(profiles) > 0 {
		f.Profile, f.Profiles = profiles[0], profiles
	}
	return f
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
