// Package secret holds credential material so that it cannot be printed,
// logged or marshalled in clear by accident: every formatting path yields the
// redacted form, and only Reveal returns the value.
package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential value (secret access key, session token, password).
type Secret struct{ v string }

// New wraps a clear-text value.
func New(v string) Secret { return Secret{v: v} }

// Reveal returns the clear-text value. Call it only where the value must leave
// the process on purpose: a request to AWS, a 0600 credentials file, or output
// the user asked for with --show-secrets.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// Redacted is the form reports carry: the first 4 characters and an ellipsis.
func (s Secret) Redacted() string {
	if s.v == "" {
		return ""
	}
	r := []rune(s.v)
	if len(r) <= 8 {
		return "…"
	}
	return string(r[:4]) + "…"
}

// SHA256 is the hex SHA-256 of the value: lets reports match a secret without holding it.
func (s Secret) SHA256() string {
	if s.v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s.v))
	return hex.EncodeToString(sum[:])
}

// String implements fmt.Stringer with the redacted form.
func (s Secret) String() string { return s.Redacted() }

// GoString keeps %#v redacted too.
func (s Secret) GoString() string { return fmt.Sprintf("secret.Secret(%q)", s.Redacted()) }

// Format makes every fmt verb (%s %v %q %x %+v ...) print the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.Redacted())
		return
	}
	io.WriteString(f, s.Redacted())
}

// LogValue keeps slog output redacted.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.Redacted()) }

// MarshalText keeps encoding/json, encoding/xml and friends redacted.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.Redacted()), nil }
