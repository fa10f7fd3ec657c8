package policy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// events is a Source over events in memory.
type events []cloudtrail.Event

func (es events) Read(_ context.Context, _ cloudtrail.Options, sink cloudtrail.Sink) error {
	for _, e := range es {
		if err := sink(e); err != nil {
			return err
		}
	}
	return nil
}

// broken is a Source that cannot be read.
type broken struct{}

func (broken) Read(context.Context, cloudtrail.Options, cloudtrail.Sink) error {
	return errors.New("access denied to s3://trail/AWSLogs/")
}

type fixedRights struct {
	cur Current
	err error
}

func (f fixedRights) Current(context.Context, Principal) (Current, error) { return f.cur, f.err }

const sessionKey = "ASIAY34FZKBOKMUTVV7A"

// sessions: the key mints a session with GetSessionToken (its rights) and
// assumes a role (the role's rights); each session makes a call.
func sessions(t *testing.T) []cloudtrail.Event {
	own := event(t, "s3.amazonaws.com", "GetObject", `{"bucketName":"data","key":"a"}`)
	mint := event(t, "sts.amazonaws.com", "GetSessionToken", `{"durationSeconds":3600}`)
	mint.ResponseElements = []byte(`{"credentials":{"accessKeyId":"` + sessionKey + `","expiration":"Nov 2, 2026, 11:00:00 PM"}}`)
	assume := event(t, "sts.amazonaws.com", "AssumeRole", `{"roleArn":"arn:aws:iam::111122223333:role/admin","roleSessionName":"x"}`)
	assume.ResponseElements = []byte(`{"credentials":{"accessKeyId":"ASIAROLESESSION00001"}}`)
	inSession := event(t, "ssm.amazonaws.com", "GetParameter", `{"name":"/app/token"}`)
	inSession.UserIdentity.AccessKeyID = sessionKey
	asRole := event(t, "iam.amazonaws.com", "CreateUser", `{"userName":"x"}`)
	asRole.UserIdentity = cloudtrail.UserIdentity{Type: "AssumedRole", AccessKeyID: "ASIAROLESESSION00001", AccountID: acct,
		SessionContext: cloudtrail.SessionContext{SessionIssuer: cloudtrail.SessionIssuer{Type: "Role", UserName: "admin", ARN: "arn:aws:iam::111122223333:role/admin"}}}
	other := event(t, "ec2.amazonaws.com", "StopInstances", `{}`)
	other.UserIdentity.AccessKeyID = "AKIAOTHERKEY00000000"
	// The session's call comes first: sources are not in time order.
	return []cloudtrail.Event{inSession, asRole, own, other, mint, assume}
}

func actionNames(s Suggestion) []string {
	var out []string
	for _, a := range s.Actions {
		out = append(out, a.Action)
	}
	return out
}

func TestKeyFollowsTheSessionsItMinted(t *testing.T) {
	s, err := Run(context.Background(), Request{Key: "AKIAIOSFODNN7EXAMPLE"}, Env{Sources: []Named{{"mem", events(sessions(t))}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"s3:GetObject", "ssm:GetParameter", "sts:AssumeRole", "sts:GetSessionToken"}
	if got := actionNames(s); !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v (the role session's iam:CreateUser and the other key's call left out)", got, want)
	}
	if !slices.Equal(s.Sessions, []string{sessionKey}) {
		t.Errorf("sessions %v", s.Sessions)
	}
	if s.Principal.Name != "alice" || s.Principal.ARN != "arn:aws:iam::111122223333:user/alice" || s.Principal.KeyID == "" {
		t.Errorf("principal %+v", s.Principal)
	}
}

func TestRoleReadsItsSessions(t *testing.T) {
	s, err := Run(context.Background(), Request{Role: "admin"}, Env{Sources: []Named{{"mem", events(sessions(t))}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := actionNames(s); !slices.Equal(got, []string{"iam:CreateUser"}) || s.Principal.Type != "role" {
		t.Errorf("role admin: %v %+v", got, s.Principal)
	}
}

func TestUnreadSourcesAndPoliciesAreGaps(t *testing.T) {
	env := Env{Sources: []Named{{"mem", events(sessions(t))}, {"s3://trail/AWSLogs/", broken{}}},
		Rights: fixedRights{err: errors.New("iam:GetUser: access denied")}}
	s, err := Run(context.Background(), Request{User: "alice"}, env)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range s.Incomplete {
		got = append(got, g.String())
	}
	want := []string{"s3://trail/AWSLogs/: access denied to s3://trail/AWSLogs/", "IAM policies of user alice: iam:GetUser: access denied"}
	if !slices.Equal(got, want) {
		t.Errorf("incomplete:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.Unused != nil {
		t.Error("unused rights reported without the current policy")
	}
}

// The suggestion carries the fingerprint of the policies it was judged
// against, so apply can refuse it once they changed; and reports a right
// they grant that was never used.
func TestRunRecordsTheCurrentPoliciesFingerprint(t *testing.T) {
	cur := Current{Inline: []Inline{{Name: "broad", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}}
	env := Env{Sources: []Named{{"mem", events(sessions(t))}}, Rights: fixedRights{cur: cur}}
	s, err := Run(context.Background(), Request{User: "alice"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fingerprint == "" || s.Fingerprint != cur.Fingerprint() {
		t.Errorf("fingerprint %q, want %q", s.Fingerprint, cur.Fingerprint())
	}
	if len(s.Unused) == 0 {
		t.Error("an allow-all policy left no unused right")
	}
}

func TestRunRefusesNoPrincipal(t *testing.T) {
	if _, err := Run(context.Background(), Request{User: "a", Role: "b"}, Env{}); err == nil {
		t.Fatal("two principals accepted")
	}
}

func TestNothingReadIsAnError(t *testing.T) {
	_, err := Run(context.Background(), Request{User: "alice"}, Env{Sources: []Named{{"s3://trail/AWSLogs/", broken{}}}})
	if err == nil || err.Error() != "read s3://trail/AWSLogs/: access denied to s3://trail/AWSLogs/" {
		t.Fatalf("err = %v", err)
	}
}

func TestKeyOfARoleSessionSuggestsForTheRole(t *testing.T) {
	s, err := Run(context.Background(), Request{Key: "ASIAROLESESSION00001"}, Env{Sources: []Named{{"mem", events(sessions(t))}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Principal.Type != "role" || s.Principal.Name != "admin" || !slices.Equal(actionNames(s), []string{"iam:CreateUser"}) {
		t.Errorf("role session key: %+v %v", s.Principal, actionNames(s))
	}
}

type fixedAdvisor struct {
	facts []ServiceAccess
	err   error
}

func (f fixedAdvisor) LastAccessed(context.Context, string) ([]ServiceAccess, error) {
	return f.facts, f.err
}

// With an Advisor, Run adds the services it saw used that no event shows,
// marked as from Access Advisor; an Advisor that cannot be read is a gap.
func TestRunAddsAccessAdvisorsServicesOrNamesTheGap(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	env := Env{Sources: []Named{{"mem", events(sessions(t))}}, AdvisorSince: at.Add(-24 * time.Hour),
		Advisor: fixedAdvisor{facts: []ServiceAccess{{Namespace: "kms", LastAccessed: at}}}}
	s, err := Run(context.Background(), Request{User: "alice"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(s.Actions, func(a Action) bool { return a.Action == "kms:*" && a.Source == SourceAccessAdvisor }) ||
		s.Statements["AdvisorKms"] != SourceAccessAdvisor {
		t.Errorf("actions %+v, sources %v: want kms:* from Access Advisor", s.Actions, s.Statements)
	}
	env.Advisor = fixedAdvisor{err: errors.New("iam:GenerateServiceLastAccessedDetails: access denied")}
	s, err = Run(context.Background(), Request{User: "alice"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Incomplete) != 1 || !strings.HasPrefix(s.Incomplete[0].String(), "Access Advisor of user alice: ") {
		t.Errorf("incomplete %v, want the Access Advisor gap", s.Incomplete)
	}
}

// RunEach reads the sources once and gives each key its own suggestion:
// the key's calls and its sessions', never another key's.
func TestRunEachKeepsEachKeysOwnEvents(t *testing.T) {
	var reads int
	src := counted{events(sessions(t)), &reads}
	got, err := RunEach(context.Background(), []Request{{Key: "AKIAIOSFODNN7EXAMPLE"}, {Key: "AKIAOTHERKEY00000000"}}, Env{Sources: []Named{{Name: "mem", Source: src}}})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("%d reads of the source, want 1", reads)
	}
	if a := actionNames(got[0]); !slices.Contains(a, "ssm:GetParameter") || slices.Contains(a, "ec2:StopInstances") {
		t.Errorf("first key's actions %v: want its session's ssm:GetParameter, not the other key's call", a)
	}
	if a := actionNames(got[1]); !slices.Equal(a, []string{"ec2:StopInstances"}) {
		t.Errorf("second key's actions %v, want [ec2:StopInstances]", a)
	}
	if !slices.Equal(got[0].Sessions, []string{sessionKey}) || len(got[1].Sessions) != 0 {
		t.Errorf("sessions %v / %v", got[0].Sessions, got[1].Sessions)
	}
}

type counted struct {
	events
	n *int
}

func (c counted) Read(ctx context.Context, o cloudtrail.Options, sink cloudtrail.Sink) error {
	*c.n++
	return c.events.Read(ctx, o, sink)
}
