// Package retire replaces long-term access keys with roles: it classifies
// how each key is used from its CloudTrail events (a workload on AWS, a CI
// runner, a person, a third party, or no one), proposes the replacement
// (an instance profile, task or function role, a GitHub or GitLab OIDC
// role pinned to a repository, exec with a role and MFA, a role with an
// external id, or deleting the key), builds it (apply, journaled), and
// retires the key once it has been quiet for a window (finish), with undo.
// This file is the contract between plan and apply: the plan
// `retire plan --format json` writes and `retire apply` reads.
package retire

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/policy"
)

// Version is the plan format's version; apply refuses another.
const Version = 1

// Class is how a key is used.
type Class string

const (
	ClassAWS        Class = "aws"         // from inside AWS: EC2, ECS, Lambda, CodeBuild
	ClassGitHub     Class = "github"      // GitHub Actions runners
	ClassGitLab     Class = "gitlab"      // GitLab CI runners
	ClassPerson     Class = "person"      // a person's machine: CLI, SDK or console from a residential or office network
	ClassThirdParty Class = "third-party" // another organisation's network or a vendor's user agent
	ClassUnused     Class = "unused"      // no event in the window (and no last use in it)
	ClassMixed      Class = "mixed"       // more than one of the above: no single replacement
	ClassUnknown    Class = "unknown"     // used, but no event says where from: no replacement
)

// Replacement kinds: what takes the key's place.
const (
	ReplaceInstanceProfile = "instance-profile" // EC2
	ReplaceTaskRole        = "task-role"        // ECS
	ReplaceFunctionRole    = "function-role"    // Lambda
	ReplaceServiceRole     = "service-role"     // CodeBuild and other AWS services
	ReplaceGitHubOIDC      = "github-oidc"      // token.actions.githubusercontent.com
	ReplaceGitLabOIDC      = "gitlab-oidc"      // gitlab.com (or a self-managed issuer)
	ReplaceExecRole        = "exec-role"        // IAM Identity Center, or keywarden exec with a role and MFA
	ReplaceExternalIDRole  = "external-id-role" // a third party assumes a role with sts:ExternalId
	ReplaceDelete          = "delete"           // the key is not used: delete it
)

// Placeholder marks a value the plan could not know (the repository a
// workflow runs in: CloudTrail does not name it). Apply refuses a plan that
// still holds one.
const Placeholder = "<FILL-IN>"

// Evidence is one reason for a key's class: how many of its events came
// from where.
type Evidence struct {
	Class     Class     `json:"class"`
	Reason    string    `json:"reason"` // e.g. "source 3.5.140.2 in AWS's EC2 range us-east-1", "user agent GitHub-Actions"
	Events    int       `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Example is one source address or user agent behind the reason.
	Example string `json:"example,omitempty"`
}

// Replacement is what apply builds for a key.
type Replacement struct {
	Kind string `json:"kind"` // one of the Replace* values
	// Role is the role to create (none for delete).
	Role string `json:"role,omitempty"`
	// Trust is the role's trust policy document.
	Trust json.RawMessage `json:"trust_policy,omitempty"`
	// Provider is the OIDC provider's URL for github-oidc and gitlab-oidc
	// (e.g. https://token.actions.githubusercontent.com).
	Provider string `json:"oidc_provider,omitempty"`
	// Repo (owner/name) and Ref (refs/heads/main, environment:prod, ...) are
	// what the trust policy's sub condition pins; Placeholder when unknown.
	Repo string `json:"repo,omitempty"`
	Ref  string `json:"ref,omitempty"`
	// ExternalID is the sts:ExternalId a third party must present.
	ExternalID string `json:"external_id,omitempty"`
	// Instructions say what the key's consumer must change (a workflow
	// snippet, an instance-profile association command, a task-definition
	// field), filled by plan and printed again by apply.
	Instructions string `json:"instructions,omitempty"`
}

// Key is the plan for one access key.
type Key struct {
	AccessKeyID string      `json:"access_key_id"`
	User        string      `json:"user"`
	Account     string      `json:"account,omitempty"`
	Class       Class       `json:"class"`
	Evidence    []Evidence  `json:"evidence,omitempty"`
	Events      int         `json:"events"`
	LastUsed    time.Time   `json:"last_used,omitzero"`
	Replacement Replacement `json:"replacement"`
	// Permissions is policy suggest's result over the same events: the
	// role's permissions (never a copy of the user's policies). Nil for
	// delete.
	Permissions *policy.Suggestion `json:"permissions,omitempty"`
	// Notes say what a person should check before applying.
	Notes []string `json:"notes,omitempty"`
}

// Plan is the result of retire plan.
type Plan struct {
	Version int       `json:"version"`
	Account string    `json:"account,omitempty"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Keys    []Key     `json:"keys"`
	// Incomplete are the sources that could not be read: a key may be
	// used where they would have shown.
	Incomplete []gap.Gap `json:"incomplete,omitempty"`
}

// ParsePlan reads a plan written by retire plan --format json.
func ParsePlan(b []byte) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("read retire plan: %w", err)
	}
	if p.Version != Version {
		return Plan{}, fmt.Errorf("retire plan version %d: want %d", p.Version, Version)
	}
	return p, nil
}
