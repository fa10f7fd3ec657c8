package detect

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Matchers of the guardrail rules of attackRules: an Organization's
// policies lifted, KMS keys opened to other accounts, escalation through
// IAM groups, and ransom notes left in S3.

// guardTypes are the Organizations policy types that limit what member
// accounts may do; tag, backup and AI opt-out policies do not.
var guardTypes = []string{"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"}

// fullAccessPolicies are the AWS-managed allow-everything SCP and RCP
// every root, OU and account starts with: detaching one narrows rights.
var fullAccessPolicies = []string{"p-FullAWSAccess", "p-RCPFullAWSAccess"}

// matchOrgPolicy: DetachPolicy and DeletePolicy name only the policy id,
// so any policy counts but the default FullAWSAccess; UpdatePolicy's
// response gives the type, DisablePolicyType's request does.
func matchOrgPolicy(e *cloudtrail.Event, req, resp map[string]any) (string, bool) {
	if !byHand(e) || !on(e, "organizations.amazonaws.com") {
		return "", false
	}
	id := Str(req, "policyId")
	switch baseName(e.EventName) {
	case "DetachPolicy":
		return "policy " + id + " detached from " + Str(req, "targetId"), !slices.Contains(fullAccessPolicies, id)
	case "DisablePolicyType":
		t := Str(req, "policyType")
		return t + " disabled for root " + Str(req, "rootId"), slices.Contains(guardTypes, t)
	case "UpdatePolicy":
		t := Str(resp, "policy", "policySummary", "type")
		return "policy " + firstNonEmpty(Str(resp, "policy", "policySummary", "name"), id) + " changed",
			t == "" || slices.Contains(guardTypes, t)
	}
	return "policy " + id + " deleted", true
}

// matchKMSShared: a key policy (PutKeyPolicy, or CreateKey with one)
// allowing everyone or another account without a condition, or a grant
// to a principal of another account. Grants to AWS services and to the
// account's own principals are quiet; so is the usual "*" restricted by
// kms:CallerAccount.
func matchKMSShared(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !byHand(e) || !on(e, "kms.amazonaws.com") {
		return "", false
	}
	key := firstNonEmpty(Str(req, "keyId"), "a new key")
	if baseName(e.EventName) == "CreateGrant" {
		to := Str(req, "granteePrincipal")
		return "grant on " + key + " to " + to, foreignKey(to, account(e))
	}
	who := outsiders(Str(req, "policy"), account(e))
	return "key policy of " + key + " allows " + strings.Join(who, ", "), len(who) > 0
}

// adminGroupWords name groups that hold administrator rights by the
// usual conventions (Administrators, aws-admins, PowerUsers, BreakGlass).
var adminGroupWords = []string{"admin", "superuser", "super-user", "poweruser", "power-user", "fullaccess",
	"full-access", "breakglass", "break-glass", "privileged", "sudo"}

// matchGroupEscalation: AddUserToGroup names only the group, so whether
// the group is privileged is read from its name. A user adding themselves
// to any group is the iam:AddUserToGroup escalation; adding someone else
// to an ordinary group is onboarding and stays quiet.
func matchGroupEscalation(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	group, user := Str(req, "groupName"), Str(req, "userName")
	if !byHand(e) || user == "" || !on(e, "iam.amazonaws.com") {
		return "", false
	}
	if user == self(e) {
		return "user " + user + " added themselves to group " + group, true
	}
	g := strings.ToLower(group)
	return "user " + user + " added to group " + group,
		slices.ContainsFunc(adminGroupWords, func(w string) bool { return strings.Contains(g, w) })
}

// broadPolicy is an AWS-managed policy short of administrator that still
// hands over a whole service (…FullAccess) or every service but IAM
// (PowerUserAccess); adminPolicyName takes the three that amount to
// administrator.
func broadPolicy(arn string) bool {
	i := strings.Index(arn, ":iam::aws:policy/")
	if !strings.HasPrefix(arn, "arn:aws") || i < 0 || adminPolicyName(arn) != "" {
		return false
	}
	name := path.Base(arn[i:])
	return name == "PowerUserAccess" || strings.HasSuffix(name, "FullAccess")
}

func matchBroadPolicy(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	arn := Str(req, "policyArn")
	return arn + " to " + principal(req), byHand(e) && on(e, "iam.amazonaws.com") && broadPolicy(arn)
}

// Ransom notes. noteWords name one outright ("HOW-TO-DECRYPT.txt",
// "FILES-DELETED.txt"); readmeWords only after destruction that
// versioning cannot undo, since a deploy uploads README.md all day.
var (
	noteWords = []string{"ransom", "decrypt", "recover", "restore", "your_files", "your-files", "yourfiles",
		"files_deleted", "files-deleted", "filesdeleted", "files_encrypted", "files-encrypted", "encrypted_files",
		"encrypted-files", "bitcoin"}
	readmeWords = []string{"readme", "read_me", "read-me", "warning", "attention", "important"}
	noteExts    = []string{"", ".txt", ".html", ".htm", ".md", ".rtf"}
)

// maxNoteBytes: a note is a page of text; anything larger is data.
const maxNoteBytes = 64 << 10

// noteKind is "note" or "readme" for a PutObject by hand of a small text
// object named like a ransom note (its object key), "" otherwise. The name
// is judged first: PutObject is a data-event trail's busiest event.
func noteKind(e *cloudtrail.Event, object string) string {
	if e.EventName != "PutObject" {
		return ""
	}
	name := strings.ToLower(path.Base(object))
	has := func(w string) bool { return strings.Contains(name, w) }
	var kind string
	switch {
	case !slices.Contains(noteExts, path.Ext(name)):
		return ""
	case slices.ContainsFunc(noteWords, has):
		kind = "note"
	case slices.ContainsFunc(readmeWords, has):
		kind = "readme"
	default:
		return ""
	}
	if !on(e, "s3.amazonaws.com") || !byHand(e) {
		return ""
	}
	if n := Get(Object(e.AdditionalEventData), "bytesTransferredIn"); n != nil && number(n) > maxNoteBytes {
		return ""
	}
	return kind
}

func matchRansomNote(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return "note " + Str(req, "key") + " written to " + Str(req, "bucketName"), noteKind(e, Str(req, "key")) == "note"
}

// destroyKind is how a call by hand destroyed objects of a bucket:
// "purge" (a version deleted, or objects written with SSE-C), "delete"
// (a delete versioning can undo), "versions" (versions listed, the
// purge's first step); "" for anything else.
func destroyKind(e *cloudtrail.Event) string {
	var kind string
	switch e.EventName {
	case "ListObjectVersions":
		kind = "versions"
	case "DeleteObject", "DeleteObjects":
		kind = "delete"
		if bytes.Contains(e.RequestParameters, []byte(`ersionId"`)) {
			kind = "purge"
		}
	case "PutObject", "CopyObject":
		if bytes.Contains(e.RequestParameters, []byte("x-amz-server-side-encryption-customer-algorithm")) ||
			bytes.Contains(e.AdditionalEventData, []byte(`"SSE_C"`)) {
			kind = "purge"
		}
	}
	if kind == "" || !on(e, "s3.amazonaws.com") || !byHand(e) {
		return ""
	}
	return kind
}

// ransomThen is the last step of KW-CT-S3-RANSOM-NOTE: a note after any
// destruction, a readme after a purge (or versions listed and deleted).
func ransomThen(e *cloudtrail.Event) func(kinds []string) bool {
	if e.EventName != "PutObject" {
		return nil
	}
	switch noteKind(e, rawString(e.RequestParameters, `"key"`)) {
	case "note":
		return func(k []string) bool { return slices.Contains(k, "delete") || slices.Contains(k, "purge") }
	case "readme":
		return func(k []string) bool {
			return slices.Contains(k, "purge") || (slices.Contains(k, "versions") && slices.Contains(k, "delete"))
		}
	}
	return nil
}
