package detect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

const canaryAccount = "111122223333"

var (
	canaryKey  = awstest.FakeKeyID("canary", 111122223333)
	testCanary = canary.Canary{Name: "billing-export", Account: canaryAccount, User: "svc-billing", Path: "/service/",
		ARN: "arn:aws:iam::111122223333:user/service/svc-billing", AccessKeyID: canaryKey,
		Placements: []canary.Placement{{Format: "dotenv", Path: "infra/.env"}, {Format: "credentials", Path: "~/.aws/credentials"}}}
)

// identity builds a record made by the identity JSON given.
func identityEvent(t testing.TB, identity, name, errCode string) cloudtrail.Event {
	return ev(t, fmt.Sprintf(`{"eventID":"e1","eventTime":"2024-08-01T10:00:00Z","eventSource":"s3.amazonaws.com",
		"eventName":%q,"awsRegion":"ap-southeast-2","sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2.15.0",
		"errorCode":%q,"recipientAccountId":"111122223333","userIdentity":%s}`, name, errCode, identity))
}

func userIdentity(account, user, key string) string {
	return fmt.Sprintf(`{"type":"IAMUser","accountId":%q,"userName":%q,"accessKeyId":%q,"arn":"arn:aws:iam::%s:user/service/%s"}`,
		account, user, key, account, user)
}

func TestCanaryWatchFiresOnEveryUseOfTheKey(t *testing.T) {
	session := awstest.FakeSessionKeyID("canary-session", 111122223333)
	cases := map[string]struct {
		identity, name, errCode, how string
	}{
		"a successful call":              {userIdentity(canaryAccount, "svc-billing", canaryKey), "ListBuckets", "", "key"},
		"an AccessDenied call":           {userIdentity(canaryAccount, "svc-billing", canaryKey), "GetObject", "AccessDenied", "key"},
		"a session from GetSessionToken": {userIdentity(canaryAccount, "svc-billing", session), "ListBuckets", "AccessDenied", "session"},
		"a federated session it issued": {fmt.Sprintf(`{"type":"FederatedUser","accountId":%q,"accessKeyId":%q,
			"arn":"arn:aws:sts::111122223333:federated-user/x","sessionContext":{"sessionIssuer":{"type":"IAMUser",
			"accountId":%q,"userName":"svc-billing","arn":"arn:aws:iam::111122223333:user/service/svc-billing"}}}`,
			canaryAccount, session, canaryAccount), "ListBuckets", "", "federation"},
	}
	for name, tc := range cases {
		seen := &MemStore{}
		w := &CanaryWatch{Canaries: canary.NewRegistry(testCanary), Seen: seen}
		e := identityEvent(t, tc.identity, tc.name, tc.errCode)
		as, err := w.Observe(context.Background(), &e)
		if err != nil || len(as) != 1 {
			t.Errorf("%s: %d alerts, %v; want 1", name, len(as), err)
			continue
		}
		a := as[0]
		if a.Rule != "KW-CT-CANARY" || a.Severity.String() != "critical" || a.Details["canary"] != "billing-export" ||
			a.Details["planted"] != "dotenv:infra/.env, credentials:~/.aws/credentials" || a.SourceIP != "198.51.100.9" ||
			a.UserAgent != "aws-cli/2.15.0" || a.Region != "ap-southeast-2" || a.Details["call"] != "s3.amazonaws.com:"+tc.name ||
			a.Details["matched"] != tc.how || a.Details["canary_key"] != canaryKey {
			t.Errorf("%s: alert %+v", name, a)
		}
		if tc.errCode != "" && a.Details["error_code"] != tc.errCode {
			t.Errorf("%s: error code %v", name, a.Details["error_code"])
		}
		s, ok, err := canary.LastSeen(context.Background(), seen, canaryKey)
		if err != nil || !ok || !s.At.Equal(time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)) || s.Event != "s3.amazonaws.com:"+tc.name {
			t.Errorf("%s: seen %+v, %v, %v; want the event recorded for canary check", name, s, ok, err)
		}
	}
}

func TestCanaryWatchNearMisses(t *testing.T) {
	other := awstest.FakeKeyID("someone", 111122223333)
	cases := map[string]string{
		"another key of the account":                     userIdentity(canaryAccount, "alice", other),
		"the same user name in another account":          userIdentity("444455556666", "svc-billing", awstest.FakeSessionKeyID("x", 444455556666)),
		"the canary's key id claimed by another account": userIdentity("444455556666", "svc-billing", canaryKey),
		"a role session named like the user": fmt.Sprintf(`{"type":"AssumedRole","accountId":%q,"accessKeyId":%q,
			"arn":"arn:aws:sts::111122223333:assumed-role/svc-billing/svc-billing","sessionContext":{"sessionIssuer":{"type":"Role",
			"accountId":%q,"userName":"svc-billing"}}}`, canaryAccount, awstest.FakeSessionKeyID("r", 111122223333), canaryAccount),
	}
	for name, identity := range cases {
		w := &CanaryWatch{Canaries: canary.NewRegistry(testCanary), Seen: &MemStore{}}
		e := identityEvent(t, identity, "ListBuckets", "")
		if as, err := w.Observe(context.Background(), &e); err != nil || len(as) != 0 {
			t.Errorf("%s: %d alerts (%v), %v; want none", name, len(as), as, err)
		}
	}
	var none *CanaryWatch = &CanaryWatch{}
	e := identityEvent(t, userIdentity(canaryAccount, "svc-billing", canaryKey), "ListBuckets", "")
	if as, _ := none.Observe(context.Background(), &e); len(as) != 0 {
		t.Errorf("no canaries registered: %v", as)
	}
}

// TestCanaryWatchKeepsTheAlertWhenItCannotRecord: the state store failing
// must not cost the alert.
func TestCanaryWatchKeepsTheAlertWhenItCannotRecord(t *testing.T) {
	w := &CanaryWatch{Canaries: canary.NewRegistry(testCanary), Seen: failingStore{}}
	e := identityEvent(t, userIdentity(canaryAccount, "svc-billing", canaryKey), "ListBuckets", "")
	as, err := w.Observe(context.Background(), &e)
	if err != nil || len(as) != 1 || as[0].Details["not_recorded"] == nil {
		t.Errorf("%v, %v; want the alert, saying it was not recorded", as, err)
	}
}

type failingStore struct{}

func (failingStore) Get(context.Context, string, string) ([]byte, bool, error) {
	return nil, false, fmt.Errorf("disk full")
}
func (failingStore) Put(context.Context, string, string, []byte) error {
	return fmt.Errorf("disk full")
}
