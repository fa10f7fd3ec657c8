package vault

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/secret"
)

// testLogN keeps scrypt cheap in tests; the work factor changes nothing but
// the cost of a derivation.
const testLogN = 10

const testPass = "correct horse battery staple"

// secretCmp compares secrets by value: the field is unexported on purpose.
var secretCmp = cmp.Comparer(func(a, b secret.Secret) bool { return a.Reveal() == b.Reveal() })

// cleanEnv removes every variable the store reads, so the developer's own
// environment cannot change a test.
func cleanEnv(t testing.TB) {
	t.Helper()
	for _, k := range []string{EnvPath, EnvPassphrase, EnvBackend, "XDG_DATA_HOME", "DBUS_SESSION_BUS_ADDRESS"} {
		t.Setenv(k, "")
	}
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
}

// fileStore opens a file-backend store in a fresh directory, with the
// passphrase in the environment.
func fileStore(t *testing.T) *Store {
	t.Helper()
	cleanEnv(t)
	t.Setenv(EnvPassphrase, testPass)
	return mustOpen(t, Options{Path: filepath.Join(t.TempDir(), "vault.age"), Backend: BackendFile, ScryptLogN: testLogN})
}

// mockKeyring swaps go-keyring for its in-memory mock, and makes the D-Bus
// check pass (the mock needs no bus; nothing dials the fake address).
func mockKeyring(t testing.TB) {
	t.Helper()
	cleanEnv(t)
	keyring.MockInit()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/keywarden-test-bus")
}

func mustOpen(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", opts.Path, err)
	}
	return s
}

// reopen opens the same store afresh, so nothing comes from a cache.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	return mustOpen(t, Options{Path: s.Path(), ScryptLogN: testLogN})
}

func testEntry(seed string) Entry {
	return Entry{
		AccessKeyID:     awstest.FakeKeyID(seed, 123456789012),
		SecretAccessKey: secret.New(awstest.FakeSecret(seed)),
		ImportedFrom:    "/home/u/.aws/credentials",
		ImportedAt:      time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

func testSession(seed string, exp time.Time) Session {
	return Session{
		AccessKeyID:     awstest.FakeSessionKeyID(seed, 123456789012),
		SecretAccessKey: secret.New(awstest.FakeSecret("s-" + seed)),
		SessionToken:    secret.New(awstest.FakeSessionToken(seed)),
		Expiration:      exp.UTC().Truncate(time.Second),
	}
}

func mustPut(t *testing.T, s *Store, profile string, e Entry) {
	t.Helper()
	if err := s.Put(profile, e); err != nil {
		t.Fatalf("Put(%s): %v", profile, err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}
