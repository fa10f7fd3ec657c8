// Package credential names an AWS access key and what STS said of it. It is
// a leaf: every verb that holds, mints, checks or delivers a key speaks of
// it in these types, and none of them needs the SDK to do so.
package credential

import "github.com/keywarden/keywarden/internal/secret"

// Key is one access key: its id, secret and, for temporary credentials,
// session token.
type Key struct {
	ID           string
	Secret       secret.Secret
	SessionToken secret.Secret
}

// Status is what STS said about a key.
type Status int

const (
	Unknown Status = iota // could not tell: network, throttling after retries, anything unexpected
	Active                // STS accepted the key
	Invalid               // AWS does not know the key, the secret is wrong, or the session expired
)

func (s Status) String() string {
	switch s {
	case Active:
		return "active"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// Result is the outcome of checking one key.
type Result struct {
	Status  Status
	ARN     string // with Active: who the key authenticates as
	Account string // with Active
	Err     error  // why, for Invalid and Unknown; never holds the secret
}
