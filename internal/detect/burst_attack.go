package detect

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// AttackBursts are the bursts of the ATT&CK review (docs/watch.md): mass
// deletion and reads of S3 objects (S3 data events, which a trail logs
// only when they are turned on), snapshots and resources destroyed in
// bulk, role hopping, other users locked out, console passwords guessed.
func AttackBursts(s Store) []*Burst {
	return []*Burst{
		{Rule: Rule{ID: "KW-CT-S3-VERSIONS-PURGED", Severity: severity.Critical,
			Title: "object versions listed and deleted in one bucket", Technique: "T1485",
			Stratus:     []string{"aws.impact.s3-ransomware-batch-deletion", "aws.impact.s3-ransomware-individual-deletion"},
			Description: "ListObjectVersions then version deletes (DeleteObjects, DeleteObject with a versionId) by one key: the bucket emptied past what versioning keeps. S3 data events.",
			Remediation: "Contain the key at once; turn on Object Lock or MFA Delete; restore from a replica or backup.",
			Events:      []string{"ListObjectVersions", "DeleteObjects", "DeleteObject"}},
			Filter: func(e *cloudtrail.Event) bool { return purgeStep(e) != "" },
			Group:  perBucket, Distinct: purgeStep, Count: 2, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-S3-DELETE-BURST", Severity: severity.High,
			Title: "many objects deleted from one bucket", Technique: "T1485",
			Stratus:     []string{"aws.impact.s3-ransomware-individual-deletion"},
			Description: "50 DeleteObject or DeleteObjects calls (up to 1,000 objects each) by one key on one bucket within 10 minutes. S3 data events.",
			Remediation: "Contain the key; restore from versions, a replica or a backup.",
			Events:      []string{"DeleteObject", "DeleteObjects"}},
			Filter: func(e *cloudtrail.Event) bool {
				return (e.EventName == "DeleteObject" || e.EventName == "DeleteObjects") && on(e, "s3.amazonaws.com") && byHand(e)
			},
			Group: perBucket, Count: 50, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-S3-READ-BURST", Severity: severity.Medium,
			Title: "many objects read from one bucket with a long-term key", Technique: "T1530",
			Description: "1,000 GetObject calls by one IAM user's access key on one bucket within 10 minutes: a bucket copied out. Roles (applications) are left out. S3 data events.",
			Remediation: "Confirm the user syncs this bucket; otherwise contain the key and review what the bucket held.",
			Events:      []string{"GetObject"}},
			Filter: func(e *cloudtrail.Event) bool {
				return e.EventName == "GetObject" && on(e, "s3.amazonaws.com") && strings.HasPrefix(e.UserIdentity.AccessKeyID, "AKIA") && byHand(e)
			},
			Group: perBucket, Count: 1000, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-SNAPSHOT-DELETE-BURST", Severity: severity.High,
			Title: "snapshots or recovery points deleted in bulk", Technique: "T1490",
			Description: "10 EBS, RDS or AWS Backup snapshots deleted by one key within 10 minutes; Data Lifecycle Manager and Backup's own expiry are left out.",
			Remediation: "Contain the key; restore what the Recycle Bin holds; check the backup vault's lock.",
			Events:      slices.Sorted(maps.Keys(snapshotDeletes))},
			Filter: func(e *cloudtrail.Event) bool { return snapshotDeletes[e.EventName] && byHand(e) },
			Count:  10, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-DESTROY-BURST", Severity: severity.High,
			Title: "resources destroyed in bulk", Technique: "T1485",
			Description: "10 instances, buckets, tables, databases, volumes, file systems or functions deleted by one key within 10 minutes (CloudFormation's deletes are left out).",
			Remediation: "Confirm a planned teardown; otherwise contain the key and restore from backups.",
			Events:      slices.Sorted(maps.Keys(destroyCalls))},
			Filter: func(e *cloudtrail.Event) bool { return destroyCalls[e.EventName] && byHand(e) },
			Count:  10, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-ASSUMEROLE-BURST", Severity: severity.Medium,
			Title: "many different roles assumed by one key", Technique: "T1548.005",
			Description: "5 different roles assumed (or tried) by one key within 10 minutes: role chaining or a hunt for a role that trusts the key.",
			Remediation: "Revoke the sessions of the roles assumed, review their trust policies, and contain the key.",
			Events:      []string{"AssumeRole"}},
			Filter: func(e *cloudtrail.Event) bool {
				return e.EventName == "AssumeRole" && on(e, "sts.amazonaws.com") && !byAWSService(e)
			},
			Distinct: roleOf,
			Count:    5, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-ACCESS-REMOVAL-BURST", Severity: severity.High,
			Title: "other users' access removed in bulk", Technique: "T1531",
			Description: "Passwords, keys or MFA of 3 other users deleted, deactivated or reset by one key within 10 minutes: the owners locked out.",
			Remediation: "Restore the users' access from a break-glass identity and contain the key.",
			Events:      slices.Sorted(maps.Keys(accessCalls))},
			Filter:   func(e *cloudtrail.Event) bool { return accessRemoved(e) != "" },
			Distinct: accessRemoved, Count: 3, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-CONSOLE-LOGIN-FAIL-BURST", Severity: severity.Medium,
			Title: "many failed console logins for one user", Technique: "T1110.001",
			Description: "5 failed console sign-ins of one IAM user or root within 10 minutes: a password being guessed.",
			Remediation: "Check the user has MFA; reset the password if it may be known; look for a success that followed.",
			Events:      []string{"ConsoleLogin"}},
			Filter: loginFailed, Group: loginUser, Count: 5, Window: 10 * time.Minute, Store: s},
		{Rule: Rule{ID: "KW-CT-S3-RANSOM-NOTE", Severity: severity.Critical,
			Title: "ransom note left after objects were destroyed", Technique: "T1486",
			Stratus: []string{"aws.impact.s3-ransomware-batch-deletion", "aws.impact.s3-ransomware-client-side-encryption",
				"aws.impact.s3-ransomware-individual-deletion"},
			Description: "A small object named like a ransom note written by the key that deleted or SSE-C-encrypted objects of the same bucket within the hour; a README counts only after versions were purged. S3 data events.",
			Remediation: "Contain the key at once; do not pay; restore from versions, a replica or a backup, and turn on Object Lock.",
			Events:      []string{"ListObjectVersions", "DeleteObject", "DeleteObjects", "PutObject", "CopyObject"}},
			Filter: func(e *cloudtrail.Event) bool { return destroyKind(e) != "" }, Kind: destroyKind, Then: ransomThen,
			Step:  stepOf(matchRansomNote),
			Group: perBucket, Window: time.Hour, Store: s},
		{Rule: Rule{ID: "KW-CT-LOG-ENUM-BURST", Severity: severity.Medium,
			Title: "CloudTrail history and trails read in bulk by a user's key", Technique: "T1654",
			Description: "20 LookupEvents or trail reads (DescribeTrails, GetTrailStatus, GetEventSelectors, ...) within 10 minutes by an IAM user's key, once per key: an intruder learning what is logged. The console and roles are left out.",
			Remediation: "Confirm the user runs an audit tool with this key; otherwise contain it and review what it did next.",
			Events:      logReads},
			Filter: logEnum, Count: 20, Window: 10 * time.Minute, Once: true, Store: s},
		{Rule: Rule{ID: "KW-CT-IAM-ADMIN-GROUP-JOINED", Severity: severity.Critical,
			Title: "user added to a group seen granted administrator", Technique: "T1098.003",
			Description: "AddUserToGroup into a group that, within the 90 days watched before, was given AdministratorAccess, IAMFullAccess, AWSOrganizationsFullAccess or an inline */* or iam:* policy (and not had it removed since), whatever its name.",
			Remediation: "Remove the user from the group (aws iam remove-user-from-group) and contain the calling key.",
			Events:      []string{"AttachGroupPolicy", "PutGroupPolicy", "DetachGroupPolicy", "DeleteGroupPolicy", "AddUserToGroup"}},
			Filter: func(e *cloudtrail.Event) bool { return groupGrant(e) != "" }, Kind: groupGrant, Then: joinedAdminGroup,
			Step:  stepOf(matchGroupEscalation),
			Group: perGroup, Window: 90 * 24 * time.Hour, Keep: true, Store: s},
	}
}

// stepOf describes a sequence's last step as the single-event rule of
// the same call does.
func stepOf(m func(e *cloudtrail.Event, req, resp map[string]any) (string, bool)) func(e *cloudtrail.Event) string {
	return func(e *cloudtrail.Event) string {
		d, _ := m(e, Object(e.RequestParameters), nil)
		return d
	}
}

// groupGrant is "admin" for a successful grant of administrator to an IAM
// group (adminPolicyName, or an inline */* or iam:* policy), "revoked"
// for its removal, "" otherwise. An inline policy removed is counted as
// revoked whatever it held: CloudTrail does not log its document.
func groupGrant(e *cloudtrail.Event) string {
	switch e.EventName {
	case "AttachGroupPolicy", "PutGroupPolicy", "DetachGroupPolicy", "DeleteGroupPolicy":
	default:
		return ""
	}
	if !on(e, "iam.amazonaws.com") || !succeeded(e) {
		return ""
	}
	req := Object(e.RequestParameters)
	var admin bool
	if doc := Str(req, "policyDocument"); doc != "" {
		admin = allowsOnAll(doc, "*", "*:*", "iam:*")
	} else {
		admin = adminPolicyName(Str(req, "policyArn")) != ""
	}
	switch {
	case e.EventName == "DeleteGroupPolicy":
		return "revoked"
	case !admin:
		return ""
	case e.EventName == "DetachGroupPolicy":
		return "revoked"
	}
	return "admin"
}

// joinedAdminGroup is the last step of KW-CT-IAM-ADMIN-GROUP-JOINED: a
// user added by hand to a group whose last grant seen was administrator.
func joinedAdminGroup(e *cloudtrail.Event) func(kinds []string) bool {
	if e.EventName != "AddUserToGroup" || !on(e, "iam.amazonaws.com") || !byHand(e) {
		return nil
	}
	return func(k []string) bool { return k[len(k)-1] == "admin" }
}

// perGroup keys group events by account and group name: the grant and
// the membership are usually made by different keys.
func perGroup(e *cloudtrail.Event) string {
	g := Str(Object(e.RequestParameters), "groupName")
	if g == "" {
		return ""
	}
	return account(e) + "/" + g
}

// logReads are the CloudTrail calls that tell a caller what is logged.
var logReads = []string{"LookupEvents", "DescribeTrails", "ListTrails", "GetTrail", "GetTrailStatus",
	"GetEventSelectors", "GetInsightSelectors", "ListEventDataStores"}

// logEnum is a CloudTrail read by an IAM user (its key, or a session it
// minted), not from the console, whose event history page pages through
// LookupEvents for whoever opens it.
func logEnum(e *cloudtrail.Event) bool {
	return slices.Contains(logReads, e.EventName) && on(e, "cloudtrail.amazonaws.com") &&
		e.UserIdentity.Type == "IAMUser" && !byAWSService(e) && AgentFamily(e.UserAgent) != "console"
}

// Burst filters judge every event, so they test the event name first
// and exactly: none of their names carries a dated suffix but Lambda's
// DeleteFunction, listed with it.

// on is an event of source, or of none (hand-written fixtures).
func on(e *cloudtrail.Event, source string) bool {
	return e.EventSource == source || e.EventSource == ""
}

// purgeStep is the kind of a version-purging call (list or delete) on a
// bucket, "" for anything else: a DeleteObject counts only with a
// versionId, since without one S3 merely adds a delete marker.
func purgeStep(e *cloudtrail.Event) string {
	var step string
	switch e.EventName {
	case "ListObjectVersions":
		step = "list"
	case "DeleteObjects":
		step = "delete"
	case "DeleteObject":
		if bytes.Contains(e.RequestParameters, []byte(`"versionId"`)) {
			step = "delete"
		}
	}
	if step == "" || !on(e, "s3.amazonaws.com") || !byHand(e) {
		return ""
	}
	return step
}

// roleOf is the roleArn of an AssumeRole request, read from the raw
// request: AssumeRole is among a trail's busiest events, and decoding
// each would cost more than every other burst together.
func roleOf(e *cloudtrail.Event) string { return rawString(e.RequestParameters, `"roleArn"`) }

// rawString is the string value of the first key quoted (`"roleArn"`) in
// raw, read without decoding raw; a value with an escape in it (never in an ARN or
// an object key CloudTrail wrote plainly), or a key found elsewhere than
// at a key's place, is decoded properly.
func rawString(raw []byte, quoted string) string {
	i := bytes.Index(raw, []byte(quoted))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(raw[i+len(quoted):], " \t\r\n")
	if len(rest) > 0 && rest[0] == ':' {
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) > 0 && rest[0] == '"' {
			if end := bytes.IndexByte(rest[1:], '"'); end >= 0 && bytes.IndexByte(rest[1:1+end], '\\') < 0 {
				return string(rest[1 : 1+end])
			}
		}
	}
	return Str(Object(raw), strings.Trim(quoted, `"`))
}

// perBucket groups S3 data events by key and bucket, the bucket read
// from the raw request as roleOf reads the role.
func perBucket(e *cloudtrail.Event) string {
	b := rawString(e.RequestParameters, `"bucketName"`)
	if k := KeyOf(e); k != "" && b != "" {
		return k + " " + b
	}
	return ""
}

var snapshotDeletes = map[string]bool{"DeleteSnapshot": true, "DeleteDBSnapshot": true, "DeleteDBClusterSnapshot": true,
	"DeleteRecoveryPoint": true, "DeleteClusterSnapshot": true}

var destroyCalls = map[string]bool{"TerminateInstances": true, "DeleteBucket": true, "DeleteTable": true,
	"DeleteDBInstance": true, "DeleteDBCluster": true, "DeleteVolume": true, "DeleteFileSystem": true,
	"DeleteFunction": true, "DeleteFunction20150331": true}

// accessRemoved names the other user whose password, key or MFA a
// successful call removed, deactivated or reset ("" otherwise). Acting on
// one's own credentials is rotation.
func accessRemoved(e *cloudtrail.Event) string {
	if !accessCalls[e.EventName] || !on(e, "iam.amazonaws.com") || !byHand(e) {
		return ""
	}
	req := Object(e.RequestParameters)
	if e.EventName == "UpdateAccessKey" && Str(req, "status") != "Inactive" {
		return ""
	}
	t, ok := other(e, req)
	if !ok {
		return ""
	}
	return t
}

var accessCalls = map[string]bool{"DeleteLoginProfile": true, "UpdateLoginProfile": true, "DeleteAccessKey": true,
	"UpdateAccessKey": true, "DeactivateMFADevice": true, "DeleteUser": true}

// loginFailed is a console sign-in refused for its password.
func loginFailed(e *cloudtrail.Event) bool {
	return e.EventName == "ConsoleLogin" && on(e, "signin.amazonaws.com") &&
		Str(Object(e.ResponseElements), "ConsoleLogin") == "Failure"
}

// loginUser: a failed sign-in may carry no ARN (an unknown user name), so
// failures group by account and the name typed.
func loginUser(e *cloudtrail.Event) string {
	id := &e.UserIdentity
	return firstNonEmpty(id.ARN, strings.Trim(id.AccountID+"/"+id.UserName, "/"))
}

// Dispatch runs each burst only on the event names its Rule.Events lists,
// so a dozen bursts cost one map lookup on an event none of them counts.
// Every burst given must list its events.
func Dispatch(bursts ...*Burst) Detector {
	d := &dispatch{byName: map[string][]*Burst{}, all: bursts}
	for _, b := range bursts {
		for _, n := range b.Rule.Events {
			d.byName[n] = append(d.byName[n], b)
		}
	}
	return d
}

type dispatch struct {
	byName map[string][]*Burst
	all    []*Burst
}

func (d *dispatch) Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error) {
	var out []Alert
	var errs []error
	for _, b := range d.byName[e.EventName] {
		as, err := b.Observe(ctx, e)
		out = append(out, as...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// Flush writes every burst's windows.
func (d *dispatch) Flush(ctx context.Context) error {
	var errs []error
	for _, b := range d.all {
		errs = append(errs, b.Flush(ctx))
	}
	return errors.Join(errs...)
}
