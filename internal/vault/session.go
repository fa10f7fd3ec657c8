package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
)

// Sessions serves profiles' short-term sessions: from Store's cache while
// one stays valid for SessionMargin more, else minted and cached.
type Sessions struct {
	Store *Store // the cache; nil: nothing cached (a key the files hold)
	// Shared reads the AWS shared files (awsfile.LoadShared).
	Shared func() (creds, config *awsfile.File, err error)
	// Mint makes the session spec describes (vaultaws.Minter.Mint).
	Mint func(ctx context.Context, spec SessionSpec) (credential.Key, time.Time, error)
	Now  func() time.Time
	// Duration overrides the profiles' duration_seconds when positive.
	Duration time.Duration
	// Note is told each change Effective makes to a duration.
	Note func(string)
}

// Process writes profile's credentials as a credential_process prints them:
// a session minted from the key the store holds for profile, or with
// noSession that key itself.
func (s Sessions) Process(ctx context.Context, w io.Writer, profile string, noSession bool) error {
	entry, err := s.Store.Get(profile)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("profile %s is not in the store %s: import it with 'keywarden creds import --profile %s'", profile, s.Store.Path(), profile)
	}
	if err != nil {
		return err
	}
	key, exp := entry.Key(), time.Time{}
	if !noSession {
		creds, config, err := s.Shared()
		if err != nil {
			return err
		}
		if key, exp, err = s.session(ctx, creds, config, profile, key); err != nil {
			return err
		}
	}
	return writeProcess(w, key, exp)
}

// Credentials are what a command run as a profile gets.
type Credentials struct {
	Key     credential.Key
	Expires time.Time // zero for a long-term key
	Region  string    // the profile's
}

// ForCommand returns the credentials a command run as profile gets: a
// session minted from the long-term key at the root of its chain
// (SourceKey; cached in the store open returns when the key is there), or
// with noSession that key itself.
func (s Sessions) ForCommand(ctx context.Context, profile string, noSession bool, open func() (*Store, error)) (Credentials, error) {
	creds, config, err := s.Shared()
	if err != nil {
		return Credentials{}, err
	}
	key, store, err := SourceKey(creds, config, profile, open)
	if err != nil {
		return Credentials{}, err
	}
	c := Credentials{Key: key}
	if !noSession {
		s.Store = store
		if c.Key, c.Expires, err = s.session(ctx, creds, config, profile, key); err != nil {
			return Credentials{}, err
		}
	}
	p, _ := awsfile.Resolve(creds, config, profile) // carries the region even when the key is elsewhere
	c.Region = p.Region
	return c, nil
}

// session returns profile's session and when it expires, minted from base
// (see SessionSpecFor).
func (s Sessions) session(ctx context.Context, creds, config *awsfile.File, profile string, base credential.Key) (credential.Key, time.Time, error) {
	spec, err := SessionSpecFor(creds, config, profile, base)
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	if s.Duration > 0 {
		spec.Duration = s.Duration
	}
	_, notes := spec.Effective()
	for _, n := range notes {
		s.Note(n)
	}
	key := sessionKey(profile, spec)
	if s.Store != nil {
		if c, ok, err := s.Store.Session(key, s.Now()); err == nil && ok {
			return credential.Key{ID: c.AccessKeyID, Secret: c.SecretAccessKey, SessionToken: c.SessionToken}, c.Expiration, nil
		}
	}
	minted, exp, err := s.Mint(ctx, spec)
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	if s.Store != nil {
		c := Session{AccessKeyID: minted.ID, SecretAccessKey: minted.Secret, SessionToken: minted.SessionToken, Expiration: exp}
		if err := s.Store.PutSession(key, c); err != nil {
			return credential.Key{}, time.Time{}, fmt.Errorf("cache the session: %w", err)
		}
	}
	return minted, exp, nil
}

// sessionKey names spec's session in the cache, profile first, so that
// DropSessions(profile+":") drops every session of the profile (after its
// key was rotated or removed).
func sessionKey(profile string, spec SessionSpec) string { return profile + ":" + spec.CacheKey() }

// Forget deletes profile's key and every session cached for it.
func (s *Store) Forget(profile string) error {
	if err := s.Remove(profile); err != nil {
		return err
	}
	return s.DropSessions(profile + ":")
}

// SourceKey is the long-term key at the root of profile's chain. A root
// imported into the store (its credential_process runs keywarden) has its
// key in the store open returns, which comes back too, to cache sessions
// in; a root holding its key in the files has it there, with no store.
func SourceKey(creds, config *awsfile.File, profile string, open func() (*Store, error)) (credential.Key, *Store, error) {
	p, err := awsfile.Resolve(creds, config, profile)
	switch {
	case err == nil:
		return credential.Key{ID: p.AccessKeyID, Secret: p.SecretAccessKey}, nil, nil
	case !errors.Is(err, awsfile.ErrCredentialProcess) || len(p.Chain) == 0:
		return credential.Key{}, nil, err
	}
	root := p.Chain[len(p.Chain)-1]
	store, err := open()
	if err != nil {
		return credential.Key{}, nil, err
	}
	entry, err := store.Get(root)
	if errors.Is(err, ErrNotFound) {
		return credential.Key{}, nil, fmt.Errorf("profile %s uses a credential_process, and %s is not in the store %s", root, root, store.Path())
	}
	if err != nil {
		return credential.Key{}, nil, err
	}
	return entry.Key(), store, nil
}
