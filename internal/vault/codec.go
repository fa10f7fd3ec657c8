package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keywarden/keywarden/internal/secret"
)

// docVersion is the plaintext format version; a newer one is refused rather
// than half-understood and then rewritten without the fields it added.
const docVersion = 1

// maxDocSize bounds the decrypted document; a real one holds a few dozen
// entries and sessions, a few tens of kilobytes.
const maxDocSize = 16 << 20

// doc is the decrypted content of the store.
type doc struct {
	Entries  map[string]Entry
	Sessions map[string]Session
}

func newDoc() *doc {
	return &doc{Entries: map[string]Entry{}, Sessions: map[string]Session{}}
}

// The wire types carry secrets as plain strings: they exist only between
// encodeDoc/decodeDoc and age, so the clear text never leaves the encrypted
// payload. secret.Secret itself marshals redacted, on purpose.
type wireDoc struct {
	Version  int                    `json:"version"`
	Entries  map[string]wireEntry   `json:"entries"`
	Sessions map[string]wireSession `json:"sessions"`
}

type wireEntry struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	ImportedFrom    string    `json:"imported_from,omitempty"`
	ImportedAt      time.Time `json:"imported_at"`
}

type wireSession struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token,omitempty"`
	Expiration      time.Time `json:"expiration"`
}

// encodeDoc is the only place secrets are revealed: into the plaintext that
// age encrypts.
func encodeDoc(d *doc) ([]byte, error) {
	w := wireDoc{Version: docVersion, Entries: map[string]wireEntry{}, Sessions: map[string]wireSession{}}
	for p, e := range d.Entries {
		w.Entries[p] = wireEntry{
			AccessKeyID:     e.AccessKeyID,
			SecretAccessKey: e.SecretAccessKey.Reveal(),
			ImportedFrom:    e.ImportedFrom,
			ImportedAt:      e.ImportedAt.UTC(),
		}
	}
	for k, s := range d.Sessions {
		w.Sessions[k] = wireSession{
			AccessKeyID:     s.AccessKeyID,
			SecretAccessKey: s.SecretAccessKey.Reveal(),
			SessionToken:    s.SessionToken.Reveal(),
			Expiration:      s.Expiration.UTC(),
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode vault: %w", err)
	}
	return b, nil
}

// decodeDoc parses a decrypted document. Its errors never quote the input:
// json's syntax errors only carry an offset, and type errors name the field
// and Go type, not the value.
func decodeDoc(b []byte) (*doc, error) {
	if len(b) > maxDocSize {
		return nil, fmt.Errorf("decode vault: document of %d bytes is larger than %d", len(b), maxDocSize)
	}
	var w wireDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("decode vault: %w", scrubJSONError(err))
	}
	if dec.More() {
		return nil, errors.New("decode vault: trailing data after the document")
	}
	if w.Version != docVersion {
		return nil, fmt.Errorf("decode vault: format version %d, this keywarden reads %d (a newer keywarden wrote it?)", w.Version, docVersion)
	}
	d := newDoc()
	for p, e := range w.Entries {
		if p == "" || e.AccessKeyID == "" || e.SecretAccessKey == "" {
			return nil, fmt.Errorf("decode vault: entry %q lacks a profile, key id or secret", p)
		}
		d.Entries[p] = Entry{
			AccessKeyID:     e.AccessKeyID,
			SecretAccessKey: secret.New(e.SecretAccessKey),
			ImportedFrom:    e.ImportedFrom,
			ImportedAt:      e.ImportedAt,
		}
	}
	for k, s := range w.Sessions {
		if s.AccessKeyID == "" || s.SecretAccessKey == "" {
			return nil, fmt.Errorf("decode vault: session %q lacks a key id or secret", k)
		}
		d.Sessions[k] = Session{
			AccessKeyID:     s.AccessKeyID,
			SecretAccessKey: secret.New(s.SecretAccessKey),
			SessionToken:    secret.New(s.SessionToken),
			Expiration:      s.Expiration,
		}
	}
	return d, nil
}

// scrubJSONError keeps json's error kinds but drops anything that could echo
// input bytes (an UnmarshalTypeError's Value is a type name, a SyntaxError
// only an offset; time.ParseError quotes the value, so it is replaced).
func scrubJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q has the wrong type (%s)", te.Field, te.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty document")
	default:
		return errors.New("malformed document")
	}
}
