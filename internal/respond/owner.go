package respond

import (
	"errors"
	"time"
)

// KeyOwner is who an access key belongs to and the key's state, as IAM
// answers for any key of the account (GetAccessKeyLastUsed, then the
// owner's ListAccessKeys).
type KeyOwner struct {
	User    string    `json:"user"`
	Account string    `json:"account_id"` // the caller's account, which GetAccessKeyLastUsed answered for
	Status  string    `json:"status"`     // "Active" or "Inactive"
	Created time.Time `json:"created"`
	// LastUsed is zero, and the service and region empty, when the key was
	// never used (AWS says "N/A").
	LastUsed        time.Time `json:"last_used,omitzero"`
	LastUsedService string    `json:"last_used_service,omitempty"`
	LastUsedRegion  string    `json:"last_used_region,omitempty"`
}

// ErrNoSuchKey is wrapped when IAM says an access key does not exist: it was
// deleted, or it is another account's.
var ErrNoSuchKey = errors.New("no such access key")
