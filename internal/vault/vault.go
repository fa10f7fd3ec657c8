package vault

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// Entry is one profile's long-term access key.
type Entry struct {
	AccessKeyID     string
	SecretAccessKey secret.Secret
	ImportedFrom    string // e.g. the credentials file path
	ImportedAt      time.Time
}

// Key is the entry's access key.
func (e Entry) Key() credential.Key {
	return credential.Key{ID: e.AccessKeyID, Secret: e.SecretAccessKey}
}

// Session is a cached set of short-term STS credentials.
type Session struct {
	AccessKeyID     string
	SecretAccessKey secret.Secret
	SessionToken    secret.Secret
	Expiration      time.Time
}

// Listed is what List shows of an entry: never its secret.
type Listed struct {
	Profile, AccessKeyID string
	ImportedAt           time.Time
}

// Options configure Open.
type Options struct {
	Path       string                                    // "": DefaultPath()
	Backend    string                                    // "", "keyring" or "file": for a new store only
	Passphrase func(confirm bool) (secret.Secret, error) // file backend, when KEYWARDEN_PASSPHRASE is unset
	ScryptLogN int                                       // file backend work factor; 0: age's default (18). Tests use a small one.
}

// ServingLogN is the scrypt work factor of a passphrase store that serves
// credential_process: 2^16 (0.3-0.5 s here, 64 MiB) rather than age's 2^18
// (1.6 s, 256 MiB), because credential_process pays it on every AWS CLI
// command whose session is not cached; four diceware words stay far out of
// reach at 2^16.
const ServingLogN = 16

// Backend names.
const (
	BackendKeyring = "keyring"
	BackendFile    = "file"
)

// Environment variables the store reads.
const (
	EnvPath       = "KEYWARDEN_VAULT"
	EnvPassphrase = "KEYWARDEN_PASSPHRASE"
	EnvBackend    = "KEYWARDEN_VAULT_BACKEND"
)

// SessionMargin is how long a cached session must still be valid for Session
// to return it: a command started with it must not see it expire mid-way.
const SessionMargin = 5 * time.Minute

// Sentinel errors, always wrapped with the store path and what to do.
var (
	ErrNotFound        = errors.New("not found")
	ErrWrongPassphrase = errors.New("wrong passphrase")
	ErrCorrupt         = errors.New("vault file is damaged")
	ErrNoKeyring       = errors.New("the OS keyring cannot open the vault")
	// ErrNoPassphrase: the file backend needs a passphrase and has no way to ask.
	ErrNoPassphrase = errors.New("no passphrase: set " + EnvPassphrase + " or run in a terminal")
)

// Store is an open vault. Its methods are safe for concurrent use, and other
// processes may use the same file at the same time.
type Store struct {
	path string
	opts Options

	mu       sync.Mutex
	backend  string
	fileLogN int                 // the existing file's scrypt work factor (0: none read yet)
	pass     secret.Secret       // file backend, once obtained
	passEnv  bool                // pass came from KEYWARDEN_PASSPHRASE
	ident    *age.X25519Identity // keyring backend, once loaded
	cacheRaw []byte              // the ciphertext cacheDoc was decrypted from
	cacheDoc *doc
}

// DefaultPath is $KEYWARDEN_VAULT, else $XDG_DATA_HOME/keywarden/vault.age,
// else ~/.local/share/keywarden/vault.age.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	// The XDG spec says a relative value is invalid and must be ignored.
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "keywarden", "vault.age"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("vault path: %w", err)
	}
	return filepath.Join(home, ".local", "share", "keywarden", "vault.age"), nil
}

// Open opens the store at opts.Path. A missing store is fine: it is created
// on the first write. An existing store keeps the backend it was made with;
// a new one uses opts.Backend, else $KEYWARDEN_VAULT_BACKEND, else the OS
// keyring when one answers, else the file backend. Open asks for no
// passphrase; that happens on the first read or write that needs it.
func Open(opts Options) (*Store, error) {
	path := opts.Path
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", path, err)
	}
	if opts.ScryptLogN < 0 || opts.ScryptLogN > 30 {
		return nil, fmt.Errorf("open vault %s: scrypt work factor %d is outside 1..30", abs, opts.ScryptLogN)
	}
	s := &Store{path: abs, opts: opts}
	raw, exists, err := s.readRaw()
	if err != nil {
		return nil, err
	}
	if exists {
		b, logN, err := sniffBackend(raw)
		if err != nil {
			return nil, s.corrupt(err)
		}
		s.backend, s.fileLogN = b, logN
		return s, nil
	}
	b, err := chooseBackend(opts.Backend)
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", abs, err)
	}
	s.backend = b
	return s, nil
}

// chooseBackend picks the backend of a new store.
func chooseBackend(explicit string) (string, error) {
	for _, c := range []struct{ name, v string }{{"backend", explicit}, {EnvBackend, os.Getenv(EnvBackend)}} {
		switch c.v {
		case "":
			continue
		case BackendKeyring, BackendFile:
			return c.v, nil
		default:
			return "", fmt.Errorf("%s %q: want %q or %q", c.name, c.v, BackendKeyring, BackendFile)
		}
	}
	if probeKeyring() == nil {
		return BackendKeyring, nil
	}
	return BackendFile, nil
}

// Backend is "keyring" or "file".
func (s *Store) Backend() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backend
}

// Path is the store's absolute path.
func (s *Store) Path() string { return s.path }

// Get returns profile's entry, or an error wrapping ErrNotFound.
func (s *Store) Get(profile string) (Entry, error) {
	d, err := s.load()
	if err != nil {
		return Entry{}, err
	}
	e, ok := d.Entries[profile]
	if !ok {
		return Entry{}, fmt.Errorf("vault %s: profile %q: %w", s.path, profile, ErrNotFound)
	}
	return e, nil
}

// Put stores (or replaces) profile's entry. A key not shaped like an AWS
// access key (credential.CheckShape) is refused.
func (s *Store) Put(profile string, e Entry) error {
	if profile == "" || e.AccessKeyID == "" || e.SecretAccessKey.IsZero() {
		return fmt.Errorf("vault put %q: profile, access key id and secret are all required", profile)
	}
	if err := credential.CheckShape(e.AccessKeyID, e.SecretAccessKey); err != nil {
		return fmt.Errorf("store profile %s: %w", profile, err)
	}
	return s.update(func(d *doc) error {
		d.Entries[profile] = e
		return nil
	})
}

// Remove deletes profile's entry, or returns an error wrapping ErrNotFound.
// Sessions minted from it stay until they expire or DropSessions.
func (s *Store) Remove(profile string) error {
	return s.update(func(d *doc) error {
		if _, ok := d.Entries[profile]; !ok {
			return fmt.Errorf("vault %s: profile %q: %w", s.path, profile, ErrNotFound)
		}
		delete(d.Entries, profile)
		return nil
	})
}

// List returns every entry sorted by profile, without secrets.
func (s *Store) List() ([]Listed, error) {
	d, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]Listed, 0, len(d.Entries))
	for _, p := range slices.Sorted(maps.Keys(d.Entries)) {
		e := d.Entries[p]
		out = append(out, Listed{Profile: p, AccessKeyID: e.AccessKeyID, ImportedAt: e.ImportedAt})
	}
	return out, nil
}

// Session returns the cached session under key if it is valid until at least
// now+SessionMargin; ok is false otherwise.
func (s *Store) Session(key string, now time.Time) (sess Session, ok bool, err error) {
	d, err := s.load()
	if err != nil {
		return Session{}, false, err
	}
	sess, ok = d.Sessions[key]
	if !ok || sess.Expiration.Before(now.Add(SessionMargin)) {
		return Session{}, false, nil
	}
	return sess, true, nil
}

// PutSession caches sess under key, and drops sessions that have expired.
func (s *Store) PutSession(key string, sess Session) error {
	if key == "" || sess.AccessKeyID == "" || sess.SecretAccessKey.IsZero() || sess.Expiration.IsZero() {
		return fmt.Errorf("vault put session %q: key, access key id, secret and expiration are all required", key)
	}
	now := time.Now()
	return s.update(func(d *doc) error {
		for k, old := range d.Sessions {
			if !old.Expiration.After(now) {
				delete(d.Sessions, k)
			}
		}
		d.Sessions[key] = sess
		return nil
	})
}

// DropSessions deletes every cached session whose key starts with
// profilePrefix ("" drops them all), e.g. after the key was rotated.
func (s *Store) DropSessions(profilePrefix string) error {
	return s.update(func(d *doc) error {
		n := len(d.Sessions)
		for k := range d.Sessions {
			if strings.HasPrefix(k, profilePrefix) {
				delete(d.Sessions, k)
			}
		}
		if len(d.Sessions) == n {
			return errNoChange // a missing store stays missing: no prompt
		}
		return nil
	})
}
