// Package policy is keywarden's least privilege: it derives, from the events a
// principal really made, the IAM policy that allows exactly those calls
// (suggest), compares it with what the principal holds (diff), and swaps the
// principal's policies for it with a journal that can put everything back
// (apply, undo). This file is the contract between those halves: the
// suggestion `policy suggest --format json` writes and `policy apply` reads.
package policy

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/gap"
)

// Principal is whom a suggestion is for.
type Principal struct {
	Type    string `json:"type"` // "user" or "role"
	Name    string `json:"name"`
	ARN     string `json:"arn,omitempty"`
	Account string `json:"account,omitempty"`
	KeyID   string `json:"access_key_id,omitempty"` // set when the events were chosen by --key
}

// Source says where a statement or an action's evidence came from.
const (
	SourceCloudTrail    = "cloudtrail"     // action level, from events
	SourceAccessAdvisor = "access-advisor" // service level, from last-accessed data
)

// Action is one IAM action the principal used (or tried), with its evidence.
type Action struct {
	Action    string    `json:"action"` // e.g. s3:GetObject
	Resources []string  `json:"resources,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	Denied    int       `json:"denied,omitempty"` // calls refused (errorCode AccessDenied...)
	Source    string    `json:"source"`
	// Needed names the action that required this one when it is not the call
	// itself (iam:PassRole for ec2:RunInstances with a profile, ...).
	Needed string `json:"needed_by,omitempty"`
	// Guessed is set when the IAM data does not know the call: the action
	// is named after the event (see Suggestion.Unmapped).
	Guessed bool `json:"unmapped,omitempty"`
}

// Unused is a right the principal holds and never used in the window.
type Unused struct {
	Action   string `json:"action"`             // an action or a service wildcard, e.g. ec2:* or iam:*
	Class    string `json:"class,omitempty"`    // a dangerous-rights class audit knows (iampolicy.Capability), if any
	Resource string `json:"resource,omitempty"` // as granted
	// For a service wildcard: how many of its actions are granted and were
	// never used, and how many were used.
	Count int `json:"count,omitempty"`
	Used  int `json:"used,omitempty"`
}

// Suggestion is the result of suggest: the policy and the report behind it.
type Suggestion struct {
	Principal Principal       `json:"principal"`
	Since     time.Time       `json:"since"`
	Until     time.Time       `json:"until"`
	Events    int             `json:"events"` // events of the principal read
	Policy    json.RawMessage `json:"policy"` // a valid IAM policy document
	Actions   []Action        `json:"actions"`
	Unused    []Unused        `json:"unused,omitempty"`
	// Statements says, per statement Sid, which source it came from.
	Statements map[string]string `json:"statement_sources,omitempty"`
	// Denied are the calls IAM refused: never granted.
	Denied []Action `json:"denied,omitempty"`
	// Unmapped are the events the IAM data could not map to an action.
	Unmapped []Unmapped `json:"unmapped,omitempty"`
	// Scoped is the share of statements scoped to named resources (0..1).
	Scoped float64 `json:"scoped_share,omitempty"`
	// Sessions are the temporary keys whose calls were counted as the
	// principal's (minted from --key with GetSessionToken, ...).
	Sessions []string `json:"sessions,omitempty"`
	// Notes say what a person should know before applying the policy.
	Notes []string `json:"notes,omitempty"`
	// Incomplete names the sources that could not be read: a call made
	// there is unknown, and the policy may deny it.
	Incomplete []gap.Gap `json:"incomplete,omitempty"`
	// Fingerprint is Current.Fingerprint of the principal's policies when
	// the suggestion was made (empty: unknown); apply refuses a suggestion
	// whose principal's policies changed since.
	Fingerprint string `json:"policies_fingerprint,omitempty"`
}

// ParseSuggestion reads what `policy suggest --format json` wrote.
func ParseSuggestion(b []byte) (Suggestion, error) {
	var s Suggestion
	if err := json.Unmarshal(b, &s); err != nil {
		return Suggestion{}, fmt.Errorf("read suggestion: %w", err)
	}
	if s.Principal.Name == "" || (s.Principal.Type != "user" && s.Principal.Type != "role") {
		return Suggestion{}, fmt.Errorf("read suggestion: want a principal of type user or role with a name")
	}
	if len(s.Policy) == 0 {
		return Suggestion{}, fmt.Errorf("read suggestion: no policy")
	}
	return s, nil
}
