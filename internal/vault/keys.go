package vault

import (
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"github.com/zalando/go-keyring"

	"github.com/keywarden/keywarden/internal/secret"
)

var secretZero secret.Secret

// identityLocked returns the key that decrypts the store. s.mu is held.
func (s *Store) identityLocked(create bool) (age.Identity, error) {
	if s.backend == BackendKeyring {
		return s.keyringIdentityLocked(create)
	}
	pass, err := s.passphraseLocked(create)
	if err != nil {
		return nil, err
	}
	id, err := age.NewScryptIdentity(pass.Reveal())
	if err != nil {
		return nil, fmt.Errorf("open vault %s: %w", s.path, err)
	}
	return id, nil
}

// recipientLocked returns the key new versions are encrypted to, creating
// it for a new store. s.mu is held.
func (s *Store) recipientLocked() (age.Recipient, error) {
	if s.backend == BackendKeyring {
		id, err := s.keyringIdentityLocked(true)
		if err != nil {
			return nil, err
		}
		return id.Recipient(), nil
	}
	_, statErr := os.Stat(s.path)
	pass, err := s.passphraseLocked(statErr != nil)
	if err != nil {
		return nil, err
	}
	r, err := age.NewScryptRecipient(pass.Reveal())
	if err != nil {
		return nil, fmt.Errorf("encrypt vault %s: %w", s.path, err)
	}
	// An explicit work factor wins; otherwise a rewrite keeps the file's, so
	// opening a store with defaults never silently weakens or slows it.
	switch {
	case s.opts.ScryptLogN > 0:
		r.SetWorkFactor(s.opts.ScryptLogN)
	case s.fileLogN > 0:
		r.SetWorkFactor(s.fileLogN)
	}
	return r, nil
}

// passphraseLocked returns the file backend's passphrase: the one already
// obtained, else $KEYWARDEN_PASSPHRASE, else Options.Passphrase (confirm is
// true for a new store, so a typo does not lock the user out). s.mu is held.
func (s *Store) passphraseLocked(confirm bool) (secret.Secret, error) {
	if !s.pass.IsZero() {
		return s.pass, nil
	}
	if v := os.Getenv(EnvPassphrase); v != "" {
		s.pass, s.passEnv = secret.New(v), true
		return s.pass, nil
	}
	if s.opts.Passphrase == nil {
		return secretZero, fmt.Errorf("open vault %s: %w", s.path, ErrNoPassphrase)
	}
	p, err := s.opts.Passphrase(confirm)
	if err != nil {
		return secretZero, fmt.Errorf("open vault %s: read passphrase: %w", s.path, err)
	}
	if p.IsZero() {
		return secretZero, fmt.Errorf("open vault %s: the passphrase is empty", s.path)
	}
	s.pass = p
	return p, nil
}

// keyringIdentityLocked loads the store's X25519 identity from the OS
// keyring; with create, a missing one is generated and saved (a new store, or
// one whose file was deleted: reusing the item keeps one item per path).
// s.mu is held.
func (s *Store) keyringIdentityLocked(create bool) (*age.X25519Identity, error) {
	if s.ident != nil {
		return s.ident, nil
	}
	acct := keyringAccount(s.path)
	where := fmt.Sprintf("service %q, account %q", keyringService, acct)
	if err := sessionBusPresent(); err != nil {
		return nil, fmt.Errorf("open vault %s: %w: %v", s.path, ErrNoKeyring, err)
	}
	v, err := keyringGet(acct)
	switch {
	case err == nil:
		id, perr := age.ParseX25519Identity(v)
		if perr != nil {
			// perr may quote the item; say only that it is not a key.
			return nil, fmt.Errorf("open vault %s: %w: the keyring item (%s) is not an age identity", s.path, ErrNoKeyring, where)
		}
		s.ident = id
		return id, nil
	case errors.Is(err, keyring.ErrNotFound) && create:
		return s.newKeyringIdentityLocked(acct, where)
	case errors.Is(err, keyring.ErrNotFound):
		return nil, fmt.Errorf("open vault %s: %w: the keyring no longer holds its key (%s); restore that item, or move the vault aside and import the keys again",
			s.path, ErrNoKeyring, where)
	default:
		return nil, fmt.Errorf("open vault %s: %w (%s): %v", s.path, ErrNoKeyring, where, err)
	}
}

func (s *Store) newKeyringIdentityLocked(acct, where string) (*age.X25519Identity, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("create vault key: %w", err)
	}
	if err := keyringSet(acct, id.String()); err != nil {
		return nil, fmt.Errorf("create vault %s: %w: save its key (%s): %v", s.path, ErrNoKeyring, where, err)
	}
	s.ident = id
	return id, nil
}

// AskPassphrase is an Options.Passphrase that asks with ask (a terminal
// prompt, input hidden): twice for a new store, so that a typo does not
// become its passphrase, and never settling for an empty one.
func AskPassphrase(ask func(question string, hidden bool) (string, error)) func(confirm bool) (secret.Secret, error) {
	return func(confirm bool) (secret.Secret, error) {
		p, err := ask("keywarden store passphrase: ", true)
		if err != nil {
			return secretZero, fmt.Errorf("%w (set %s for unattended use)", err, EnvPassphrase)
		}
		if confirm {
			again, err := ask("again: ", true)
			if err != nil {
				return secretZero, err
			}
			if again != p {
				return secretZero, errors.New("the passphrases differ")
			}
		}
		if p == "" {
			return secretZero, errors.New("an empty passphrase would not protect the store")
		}
		return secret.New(p), nil
	}
}
