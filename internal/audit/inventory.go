// Package audit holds what keywarden knows about an account's root user, IAM
// users and access keys (the inventory, plain structs) and the checks that
// judge it against the access-key best practices (one pure function each).
//
// Nothing here talks to AWS: a reader (internal/audit/auditaws) fills an
// Inventory with the facts it fetched (the IAM credential report,
// ListAccessKeys, ...), handing the policy documents and the texts where keys
// get pasted to the verdicts here (JudgeUserPolicies, JudgeRoleTrust,
// EmbeddedInText, EmbeddedInEnv), and Run judges the inventory. A fact the
// reader could not establish stays unknown, and a check that needs an unknown
// fact reports it as unknown (severity low, evidence "verdict": "unknown")
// instead of passing silently.
package audit

import (
	"strings"
	"time"
)

// Tri is a yes/no fact that may be unknown. The zero value is Unknown, so a
// field nobody filled never reads as a pass.
type Tri int8

const (
	Unknown Tri = iota
	Yes
	No
)

func (t Tri) String() string {
	switch t {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// MarshalText writes yes, no or unknown.
func (t Tri) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// TriOf converts a known bool.
func TriOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// DateState says whether a Date holds a time, is known never to have happened,
// or is unknown.
type DateState int8

const (
	DateUnknown DateState = iota // not reported, unreadable, no_information, not_supported
	DateSet                      // Time is valid
	DateNever                    // the report says N/A: never happened (e.g. a key never used)
)

// Date is an optional time. The zero value is unknown.
type Date struct {
	Time  time.Time
	State DateState
}

// At returns a known date.
func At(t time.Time) Date { return Date{Time: t, State: DateSet} }

// Never returns a date known not to exist (never used, no such credential).
func Never() Date { return Date{State: DateNever} }

// Known reports whether Time is valid.
func (d Date) Known() bool { return d.State == DateSet }

// String is RFC 3339, "never" or "unknown"; used in evidence.
func (d Date) String() string {
	switch d.State {
	case DateSet:
		return d.Time.UTC().Format(time.RFC3339)
	case DateNever:
		return "never"
	}
	return "unknown"
}

// KeyStatus is an access key's status. The zero value is unknown.
type KeyStatus int8

const (
	KeyStatusUnknown KeyStatus = iota
	KeyActive
	KeyInactive
)

func (s KeyStatus) String() string {
	switch s {
	case KeyActive:
		return "Active"
	case KeyInactive:
		return "Inactive"
	}
	return "unknown"
}

// Key is one access key of a user or of the root user.
type Key struct {
	// Slot is 1 or 2: the key's columns in the credential report (which
	// names no key ids); 0 when the key is known only from ListAccessKeys.
	Slot int
	// ID is the access key id when known (ListAccessKeys); empty otherwise.
	ID     string
	Status KeyStatus
	// Created is when the key was created; the credential report calls it
	// last_rotated ("created or last changed").
	Created         Date
	LastUsed        Date   // DateNever: not used since AWS began tracking (2015-04-22)
	LastUsedService string // service namespace, e.g. "s3"; empty when never used/unknown
	LastUsedRegion  string
	// RetireClass is how `retire plan` last found the key used (aws,
	// github, gitlab, person, third-party, unused, mixed, unknown); empty when it
	// never planned for it. Judge fills it from Options.RetireClass.
	RetireClass string
}

// User is one IAM user.
type User struct {
	Name    string
	ARN     string
	Created Date
	// Password: the user has a console password (login profile).
	Password            Tri
	PasswordLastUsed    Date
	PasswordLastChanged Date
	MFA                 Tri // at least one MFA device is active
	Keys                []Key

	// Filled by JudgeUserPolicies from the user's policies; Unknown /
	// empty until then.
	Admin     Tri      // effective rights amount to full administrator
	Dangerous []string // dangerous actions the user may perform, e.g. "iam:CreateAccessKey"
	Groups    []string

	// DetailsRead says the authorization details listed the user, so that
	// DirectPolicies and Tags are known (empty meaning none).
	DetailsRead bool
	// DirectPolicies names the policies attached to the user itself rather
	// than through a group: "inline:NAME" for an inline policy, the ARN of
	// a managed one.
	DirectPolicies []string
	Tags           map[string]string
}

// Root is the account's root user as the credential report describes it.
type Root struct {
	ARN              string
	Created          Date
	PasswordLastUsed Date
	MFA              Tri
	Keys             []Key // only keys that exist (active or inactive)
}

// Inventory is everything the checks judge for one account.
type Inventory struct {
	AccountID string
	// ReportGeneratedAt is when AWS generated the credential report the
	// inventory came from (AWS serves a cached report up to 4 hours old);
	// zero when there was no report.
	ReportGeneratedAt time.Time
	Root              *Root // nil when the report had no <root_account> row
	Users             []User
	// Embedded lists access keys found in plain text in the account's
	// resources (Lambda environments, EC2 user data, ECS task definitions,
	// SSM String parameters); EmbeddedUnread names the places that could not
	// be read (see checks_embedded.go).
	Embedded       []EmbeddedKey
	EmbeddedUnread []string
	// Trails, Roles and Instances (see infra.go) hold only what was read:
	// each *Read flag is false when its read failed or was not made, and the
	// checks then report unknown instead of passing. InstanceRegions names
	// the regions whose instances were listed.
	Trails     []Trail
	TrailsRead bool
	// CustomerPolicies are the account's customer managed policies with
	// their default version; CustomerPoliciesRead is false when they were
	// not read.
	CustomerPolicies     []ManagedPolicy
	CustomerPoliciesRead bool
	// Groups are the account's IAM groups with the managed policies
	// attached to them; GroupsRead is false when they were not read.
	Groups     []Group
	GroupsRead bool
	// Account-wide settings (account.go); each *Read is false when its
	// read failed.
	PasswordPolicy     *PasswordPolicy // nil: the account has none (AWS's default applies)
	PasswordPolicyRead bool
	// RootVirtualMFA says a virtual MFA device is assigned to the root
	// user; Unknown when the virtual devices could not be listed.
	RootVirtualMFA  Tri
	ServerCerts     []ServerCert
	ServerCertsRead bool
	// SupportRoles names the roles AWSSupportAccess is attached to;
	// SupportRolesRead is false when that could not be read.
	SupportRoles     []string
	SupportRolesRead bool
	// SecurityContact says a security alternate contact is registered;
	// Unknown when it could not be read.
	SecurityContact Tri
	// Analyzers lists, for each region whose analyzers were listed, the
	// IAM Access Analyzer analyzers there; AnalyzerRegionsUnread names
	// the regions where listing them failed.
	Analyzers             []RegionAnalyzers
	AnalyzerRegionsUnread []string
	// LogGroups are the CloudWatch Logs groups the trails deliver to, and
	// TrailBuckets the trails' S3 buckets, by ARN and by name; a trail's
	// group or bucket missing here was not read.
	LogGroups       map[string]LogGroup
	TrailBuckets    map[string]Bucket
	Roles           []Role
	RolesRead       bool
	Instances       []Instance
	InstancesRead   bool
	InstanceRegions []string
	// Regions names the regions the regional reads (instances, embedded
	// keys) were made in: the account's enabled regions, or those the user
	// chose. RegionsIncomplete says the enabled regions could not be listed,
	// so regions beyond Regions were not read and their facts are unknown.
	// InstanceRegionsUnread and EmbeddedUnreadRegions (by Where*) name the
	// regions whose reads failed.
	Regions               []string
	RegionsIncomplete     bool
	InstanceRegionsUnread []string
	EmbeddedUnreadRegions map[string][]string
	// OrgManagement is, with --org, the organization's management account:
	// a member's role trusting it is how AWS Organizations administers the
	// member (OrganizationAccountAccessRole), not a third party's access.
	OrgManagement string
	// Warnings name values that could not be read; the facts they would have
	// given are left unknown.
	Warnings []string
	// Unread lists the reads that failed (Gap.Account is left to Judge):
	// what the audit must name as not read. Warnings about what AWS itself
	// does not know yet (a user newer than the credential report) are not
	// in it.
	Unread []Gap
}

// ReportAge is how old the credential report was at now; 0 without a report.
func (inv Inventory) ReportAge(now time.Time) time.Duration {
	if inv.ReportGeneratedAt.IsZero() || now.Before(inv.ReportGeneratedAt) {
		return 0
	}
	return now.Sub(inv.ReportGeneratedAt)
}

// arnAccount returns the account id field of an ARN ("" if malformed).
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// arnPartition returns the partition of an ARN, "aws" when it cannot tell.
func arnPartition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) == 3 && parts[0] == "arn" && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}
