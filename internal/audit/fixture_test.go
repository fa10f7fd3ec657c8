package audit

import (
	"fmt"
	"sort"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
)

const testAccount = "123456789012"

var asOf = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// ago is a date n days before asOf.
func ago(n int) Date { return At(asOf.Add(-time.Duration(n) * day)) }

// key builds a key in slot with the given status, created n days ago, last
// used u days ago (u < 0: never used).
func key(slot int, status KeyStatus, created, used int) Key {
	k := Key{Slot: slot, Status: status, Created: ago(created), LastUsed: Never()}
	if used >= 0 {
		k.LastUsed = ago(used)
		k.LastUsedService, k.LastUsedRegion = "s3", "us-east-1"
	}
	return k
}

func active(slot, created, used int) Key   { return key(slot, KeyActive, created, used) }
func inactive(slot, created, used int) Key { return key(slot, KeyInactive, created, used) }

// withID gives a key an id built at run time (never a real-looking literal).
func withID(k Key, seed string) Key {
	k.ID = awstest.FakeKeyID(seed, 123456789012)
	return k
}

// user is a well-kept programmatic user: old, no console, MFA, not admin.
func user(name string, keys ...Key) User {
	return User{
		Name: name, ARN: "arn:aws:iam::" + testAccount + ":user/" + name, Created: ago(400),
		Password: No, PasswordLastUsed: Never(), MFA: Yes, Admin: No, Keys: keys, DetailsRead: true,
	}
}

// account wraps users with a well-kept root. Users without tags get an
// owner tag (KW-USER-UNTAGGED's tests make their own).
func account(users ...User) Inventory {
	for i := range users {
		if users[i].Tags == nil {
			users[i].Tags = ownerTag()
		}
	}
	return Inventory{
		AccountID: testAccount, ReportGeneratedAt: asOf.Add(-2 * time.Hour),
		Root:  &Root{ARN: "arn:aws:iam::" + testAccount + ":root", Created: ago(2000), MFA: Yes},
		Users: users,
		// A well-kept account's infrastructure: one logging multi-region
		// trail logging every management event and S3 object events of
		// every bucket, no roles, no instances.
		Trails: []Trail{trailWith(func(t *Trail) { t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3")} })}, TrailsRead: true, RolesRead: true, InstancesRead: true, CustomerPoliciesRead: true, GroupsRead: true,
		PasswordPolicy: strongPasswords(), PasswordPolicyRead: true, RootVirtualMFA: No, ServerCertsRead: true,
		SupportRoles: []string{"support"}, SupportRolesRead: true,
		SecurityContact: Yes, Regions: []string{"us-east-1"},
		Analyzers: []RegionAnalyzers{{Region: "us-east-1", Analyzers: []Analyzer{{Name: "account",
			ARN: "arn:aws:access-analyzer:us-east-1:" + testAccount + ":analyzer/account", Type: "ACCOUNT", Status: "ACTIVE", Tags: ownerTag()}}}},
		LogGroups:    map[string]LogGroup{goodTrail().LogGroupARN: watchedGroup()},
		TrailBuckets: map[string]Bucket{goodTrail().Bucket: privateBucket()},
	}
}

// ownerTag is the tag a well-kept account puts on its resources.
func ownerTag() map[string]string { return map[string]string{"owner": "platform"} }

// alarmTopic is the SNS topic the fixture's alarms notify.
const alarmTopic = "arn:aws:sns:us-east-1:" + testAccount + ":security-alarms"

// watchedGroup is the trail's log group with a filter and an alarm that
// notifies for every monitor, each filter its monitor's own pattern.
func watchedGroup() LogGroup {
	g := LogGroup{ARN: goodTrail().LogGroupARN, Name: "trail", Region: "us-east-1", Subscribers: map[string]int{alarmTopic: 1}}
	for _, m := range monitors {
		metric := Metric{Namespace: "CISBenchmark", Name: m.info.ID}
		g.Filters = append(g.Filters, MetricFilter{Name: m.info.ID, Pattern: m.pattern, Metrics: []Metric{metric}})
		g.Alarms = append(g.Alarms, Alarm{Name: m.info.ID, Metric: metric, Actions: []string{alarmTopic}, Enabled: true})
	}
	return g
}

// privateBucket is the trail's bucket, private and logged.
func privateBucket() Bucket {
	return Bucket{Name: goodTrail().Bucket, ACLRead: true, PolicyRead: true, BlockRead: true,
		Block:   PublicAccessBlock{BlockPublicACLs: true, IgnorePublicACLs: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
		Logging: Yes, LogTarget: "access-logs"}
}

// summary renders findings compactly for table comparisons:
// "CHECK severity resource-name slot=N [unknown]".
func summary(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		s := fmt.Sprintf("%s %s %s", f.Check, f.Severity, lastPart(f.Resource))
		if slot, ok := f.Evidence["key_slot"]; ok {
			s += fmt.Sprintf(" slot=%v", slot)
		}
		if f.Evidence["verdict"] == "unknown" {
			s += " unknown"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func lastPart(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' || arn[i] == ':' {
			return arn[i+1:]
		}
	}
	return arn
}

// strongPasswords is the password policy the benchmarks ask for.
func strongPasswords() *PasswordPolicy {
	return &PasswordPolicy{MinimumLength: 14, RequireUppercase: true, RequireLowercase: true, RequireSymbols: true,
		RequireNumbers: true, ReusePrevention: 24, MaxAgeDays: 90}
}
