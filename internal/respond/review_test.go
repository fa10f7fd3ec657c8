package respond

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// stsCall builds a successful (or failed) STS call by caller that returned minted.
func stsCall(t *testing.T, id, name, caller, minted, at, errCode string) cloudtrail.Event {
	t.Helper()
	return ev(t, fmt.Sprintf(`{"eventID":%q,"eventTime":%q,"eventSource":"sts.amazonaws.com","eventName":%q,
		"errorCode":%q,"userIdentity":{"type":"IAMUser","accessKeyId":%q},
		"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/r"},
		"responseElements":{"credentials":{"accessKeyId":%q,"expiration":"Aug 1, 2024, 11:45:22 AM"}}}`,
		id, at, name, errCode, caller, minted))
}

func TestFollowFindsRoleChainsAndNothingElse(t *testing.T) {
	const acct = 111122223333
	exposed := awstest.FakeKeyID("exposed", acct)
	s1, s2, s3 := awstest.FakeSessionKeyID("s1", acct), awstest.FakeSessionKeyID("s2", acct), awstest.FakeSessionKeyID("s3", acct)
	other, stranger := awstest.FakeKeyID("other", acct), awstest.FakeSessionKeyID("stranger", acct)
	failed := awstest.FakeSessionKeyID("failed", acct)
	events := []cloudtrail.Event{
		stsCall(t, "e3", "AssumeRole", s2, s3, "2024-08-01T10:03:00Z", ""), // logs out of order
		stsCall(t, "e1", "GetSessionToken", exposed, s1, "2024-08-01T10:01:00Z", ""),
		stsCall(t, "e2", "AssumeRole", s1, s2, "2024-08-01T10:02:00Z", ""),
		stsCall(t, "e2", "AssumeRole", s1, s2, "2024-08-01T10:02:00Z", ""), // same record from two sources
		stsCall(t, "e4", "AssumeRole", other, stranger, "2024-08-01T10:04:00Z", ""),
		stsCall(t, "e5", "AssumeRole", exposed, failed, "2024-08-01T10:05:00Z", "AccessDenied"),
		stsCall(t, "e6", "AssumeRole", s3, exposed, "2024-08-01T10:06:00Z", ""), // not ASIA: not minted
	}
	exp := time.Date(2024, 8, 1, 11, 45, 22, 0, time.UTC)
	role := "arn:aws:iam::111122223333:role/r"
	want := []MintedKey{
		{KeyID: s1, Parent: exposed, By: "GetSessionToken", At: time.Date(2024, 8, 1, 10, 1, 0, 0, time.UTC), Expiration: exp, Event: "e1"},
		{KeyID: s2, Parent: s1, By: "AssumeRole", At: time.Date(2024, 8, 1, 10, 2, 0, 0, time.UTC), Expiration: exp, Role: role, Event: "e2"},
		{KeyID: s3, Parent: s2, By: "AssumeRole", At: time.Date(2024, 8, 1, 10, 3, 0, 0, time.UTC), Expiration: exp, Role: role, Event: "e3"},
	}
	if diff := cmp.Diff(want, Follow(exposed, events)); diff != "" {
		t.Errorf("Follow (-want +got):\n%s", diff)
	}
	if p, ok := MintedBy(s3, events); !ok || p != s2 {
		t.Errorf("MintedBy(s3) = %q, %v; want s2's key", p, ok)
	}
	if _, ok := MintedBy(failed, events); ok {
		t.Error("MintedBy must ignore a failed call")
	}
}

func TestFollowReadsRealFederationTokenRecord(t *testing.T) {
	events := stratus(t, "aws.persistence.sts-federation-token")
	fed := named(events, "GetFederationToken")
	if len(fed) != 1 {
		t.Fatalf("corpus changed: %d GetFederationToken records", len(fed))
	}
	got := Follow(fed[0].UserIdentity.AccessKeyID, events)
	if len(got) != 1 || got[0].By != "GetFederationToken" || got[0].KeyID[:4] != "ASIA" ||
		!got[0].Expiration.Equal(time.Date(2024, 11, 30, 20, 43, 17, 0, time.UTC)) {
		t.Fatalf("Follow = %+v; want the federation key expiring 2024-11-30T20:43:17Z", got)
	}
	// The minted key then acted: its calls are in the same log.
	var used bool
	for _, e := range events {
		used = used || e.UserIdentity.AccessKeyID == got[0].KeyID
	}
	if !used {
		t.Error("the federation key's own calls should be in the log")
	}
}

func TestSummarizeOrdersByCountThenValue(t *testing.T) {
	mk := func(at, src, name, region, ip, ua, code string) cloudtrail.Event {
		return ev(t, fmt.Sprintf(`{"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":%q,
			"sourceIPAddress":%q,"userAgent":%q,"errorCode":%q,"userIdentity":{"accessKeyId":"K"}}`,
			at, src, name, region, ip, ua, code))
	}
	events := []cloudtrail.Event{
		mk("2024-01-02T00:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "198.51.100.7", "b", ""),
		mk("2024-01-01T00:00:00Z", "iam.amazonaws.com", "ListUsers", "us-east-1", "198.51.100.7", "a", "AccessDenied"),
		mk("2024-01-03T00:00:00Z", "iam.amazonaws.com", "CreateUser", "eu-west-1", "203.0.113.9", "a", ""),
		mk("2024-01-02T12:00:00Z", "sts.amazonaws.com", "GetCallerIdentity", "us-east-1", "203.0.113.9", "c", ""),
	}
	got := Summarize(events)
	want := Summary{
		Events: 4, Errors: 1,
		First: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC),
		Services:   []Count{{"iam.amazonaws.com", 2}, {"s3.amazonaws.com", 1}, {"sts.amazonaws.com", 1}},
		Actions:    []Count{{"iam:CreateUser", 1}, {"iam:ListUsers", 1}, {"s3:ListBuckets", 1}, {"sts:GetCallerIdentity", 1}},
		Regions:    []Count{{"us-east-1", 3}, {"eu-west-1", 1}},
		SourceIPs:  []Count{{"198.51.100.7", 2}, {"203.0.113.9", 2}},
		UserAgents: []Count{{"a", 2}, {"b", 1}, {"c", 1}},
		ErrorCodes: []Count{{"AccessDenied", 1}},
		Keys:       []Count{{"K", 4}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
	if got.Window() != 48*time.Hour {
		t.Errorf("Window = %v, want 48h", got.Window())
	}
}

func TestSummarizeKeepsTopN(t *testing.T) {
	var events []cloudtrail.Event
	for i := range SummaryTopN + 5 {
		for range i + 1 { // region r<i> occurs i+1 times
			events = append(events, ev(t, fmt.Sprintf(`{"awsRegion":"r%02d"}`, i)))
		}
	}
	got := Summarize(events).Regions
	if len(got) != SummaryTopN || got[0].Value != fmt.Sprintf("r%02d", SummaryTopN+4) {
		t.Errorf("Regions = %v; want the %d most frequent, most frequent first", got, SummaryTopN)
	}
}
