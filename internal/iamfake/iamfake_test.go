package iamfake_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/iamfake"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// The conformance suite: every case runs against the fake and against the
// adapters over moto_server, and both must answer alike. A case that needs
// STS to judge keys runs on moto's authenticating server; the others on the
// server that knows AWS's managed policies (the quarantine policy).

const account = "123456789012" // moto's account, and the fake's

// backend is one implementation of the IAM that rotate and respond use,
// with the fixtures a case builds its account from.
type backend struct {
	rotate  rotate.IAM
	respond respond.IAM
	// createUser adds a user; setLoginProfile gives it a console password.
	createUser      func(t *testing.T, name string)
	setLoginProfile func(t *testing.T, name string)
	// stsKnowsStatus: STS refuses an inactive key, as AWS does. moto_server
	// (5.x) accepts it; the fake keeps AWS's rule.
	stsKnowsStatus bool
}

type conformanceCase struct {
	name string
	sts  bool // needs STS to tell good keys from bad
	run  func(t *testing.T, b backend)
}

func TestFakeConforms(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, fakeBackend()) })
	}
}

func TestMotoConforms(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, motoBackend(t, c.sts)) })
	}
}

func fakeBackend() backend {
	a := iamfake.New(account)
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	return backend{rotate: a, respond: a, stsKnowsStatus: true,
		createUser:      func(t *testing.T, name string) { must(t, a.CreateUser(name)) },
		setLoginProfile: func(t *testing.T, name string) { must(t, a.SetLoginProfile(name)) }}
}

// motoBackend signs as an administrator of a reset moto account.
func motoBackend(t *testing.T, sts bool) backend {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if sts {
		srv := awstest.MotoWithAuth(t)
		admin := srv.CreateUserKey(t, "admin", awstest.AdminPolicy)
		cfg, err = awsx.Load(context.Background(), awsx.Options{})
		cfg = awsx.WithKey(cfg, credential.Key{ID: admin.KeyID, Secret: admin.Secret})
	} else {
		awstest.MotoWithManagedPolicies(t)
		cfg, err = awsx.Load(context.Background(), awsx.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	client := awsx.IAM(awstest.Fixture(cfg))
	ctx := context.Background()
	return backend{rotate: rotateaws.New(cfg), respond: respondaws.New(cfg),
		createUser: func(t *testing.T, name string) {
			if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		},
		setLoginProfile: func(t *testing.T, name string) {
			_, err := client.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name),
				Password: aws.String("Correct-Horse-9-Battery")})
			if err != nil {
				t.Fatal(err)
			}
		}}
}

var cases = []conformanceCase{
	{"two keys at most, listed oldest first", false, twoKeysAtMost},
	{"status changes may be repeated", false, statusRepeats},
	{"a deleted key is gone, and deleting it again is no error", false, deleteTwice},
	{"unknown users and keys are NoSuchEntity", false, unknownEntities},
	{"a key never used has no last use", false, neverUsed},
	{"STS accepts an active key with its secret only", true, stsJudgesKeys},
	{"sessions are revoked by an inline policy, put and deleted again", false, revokeSessions},
	{"the quarantine policy is attached once and detached again", false, quarantine},
	{"the console password is deleted once", false, consolePassword},
}

func createKey(t *testing.T, b backend, user string) credential.Key {
	t.Helper()
	k, created, err := b.rotate.CreateKey(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == "" || k.Secret.IsZero() || time.Since(created) > time.Hour || time.Until(created) > time.Minute {
		t.Fatalf("CreateKey = %s, created %v: want an id, a secret and a creation time of now", k.ID, created)
	}
	return k
}

func listed(t *testing.T, b backend, user string) []rotate.AccessKey {
	t.Helper()
	keys, err := b.rotate.ListKeys(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func twoKeysAtMost(t *testing.T, b backend) {
	b.createUser(t, "ci")
	first, second := createKey(t, b, "ci"), createKey(t, b, "ci")
	_, _, err := b.rotate.CreateKey(context.Background(), "ci")
	if awsx.ErrorCode(err) != "LimitExceeded" {
		t.Fatalf("third CreateKey: err %v, want IAM's LimitExceeded", err)
	}
	keys := listed(t, b, "ci")
	ids := []string{}
	for i, k := range keys {
		ids = append(ids, k.ID)
		if !k.Active || i > 0 && k.Created.Before(keys[i-1].Created) {
			t.Errorf("ListKeys = %+v: want active keys, oldest first", keys)
		}
	}
	if slices.Sort(ids); len(ids) != 2 || !slices.Contains(ids, first.ID) || !slices.Contains(ids, second.ID) {
		t.Errorf("ListKeys ids %v, want %s and %s", ids, first.ID, second.ID)
	}
}

func statusRepeats(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	k := createKey(t, b, "ci")
	for range 2 {
		if err := b.rotate.SetActive(ctx, "ci", k.ID, false); err != nil {
			t.Fatalf("deactivate: %v", err)
		}
	}
	if keys := listed(t, b, "ci"); len(keys) != 1 || keys[0].Active {
		t.Errorf("after deactivating: %+v", keys)
	}
	owner, err := b.respond.KeyOwner(ctx, k.ID)
	if err != nil || owner.Status != "Inactive" || owner.User != "ci" || owner.Account != account {
		t.Errorf("KeyOwner = %+v, %v: want ci's inactive key in %s", owner, err, account)
	}
	// respond deactivates through its own adapter: the same call, the same state.
	if err := b.respond.SetActive(ctx, "ci", k.ID, true); err != nil {
		t.Fatal(err)
	}
	if keys := listed(t, b, "ci"); !keys[0].Active {
		t.Errorf("after reactivating: %+v", keys)
	}
}

func deleteTwice(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	k := createKey(t, b, "ci")
	for range 2 {
		if err := b.rotate.DeleteKey(ctx, "ci", k.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if keys := listed(t, b, "ci"); len(keys) != 0 {
		t.Errorf("after delete: %+v", keys)
	}
	if _, err := b.rotate.LastUsed(ctx, k.ID); !errors.Is(err, rotate.ErrNoSuchKey) {
		t.Errorf("LastUsed of a deleted key: %v, want rotate.ErrNoSuchKey", err)
	}
	if _, err := b.respond.KeyOwner(ctx, k.ID); !errors.Is(err, respond.ErrNoSuchKey) {
		t.Errorf("KeyOwner of a deleted key: %v, want respond.ErrNoSuchKey", err)
	}
}

func unknownEntities(t *testing.T, b backend) {
	ctx := context.Background()
	if _, err := b.rotate.ListKeys(ctx, "nobody"); !awsx.IsNoSuchEntity(err) {
		t.Errorf("ListKeys(unknown user): %v, want NoSuchEntity", err)
	}
	b.createUser(t, "ci")
	missing := awstest.FakeKeyID("missing", 123456789012)
	if err := b.rotate.SetActive(ctx, "ci", missing, false); !awsx.IsNoSuchEntity(err) {
		t.Errorf("SetActive(unknown key): %v, want NoSuchEntity", err)
	}
	if _, _, err := b.rotate.CreateKey(ctx, "nobody"); !awsx.IsNoSuchEntity(err) {
		t.Errorf("CreateKey(unknown user): %v, want NoSuchEntity", err)
	}
}

func neverUsed(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	k := createKey(t, b, "ci")
	if at, err := b.rotate.LastUsed(ctx, k.ID); err != nil || !at.At.IsZero() {
		t.Errorf("LastUsed = %v, %v; want never", at, err)
	}
	owner, err := b.respond.KeyOwner(ctx, k.ID)
	if err != nil || !owner.LastUsed.IsZero() || owner.LastUsedService != "" || owner.LastUsedRegion != "" || owner.Status != "Active" {
		t.Errorf("KeyOwner = %+v, %v; want an active key never used", owner, err)
	}
}

func stsJudgesKeys(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	k := createKey(t, b, "ci")
	if r := b.rotate.Verify(ctx, k); r.Status != credential.Active || r.Account != account || r.ARN != "arn:aws:iam::"+account+":user/ci" {
		t.Errorf("Verify(new key) = %+v; want active as ci", r)
	}
	wrong := credential.Key{ID: k.ID, Secret: secret.New(awstest.FakeSecret("wrong"))}
	if r := b.rotate.Verify(ctx, wrong); r.Status != credential.Invalid {
		t.Errorf("Verify(wrong secret) = %+v; want invalid", r)
	}
	if err := b.rotate.SetActive(ctx, "ci", k.ID, false); err != nil {
		t.Fatal(err)
	}
	if r := b.rotate.Verify(ctx, k); b.stsKnowsStatus && r.Status != credential.Invalid {
		t.Errorf("Verify(inactive key) = %+v; want invalid", r)
	}
	if err := b.rotate.DeleteKey(ctx, "ci", k.ID); err != nil {
		t.Fatal(err)
	}
	if r := b.rotate.Verify(ctx, k); r.Status != credential.Invalid {
		t.Errorf("Verify(deleted key) = %+v; want invalid", r)
	}
}

// inline lists the names of user's inline policies and the document of one.
func inline(t *testing.T, b backend, user, name string) ([]string, string) {
	t.Helper()
	p, err := b.respond.UserPolicies(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	doc := ""
	for _, in := range p.Set.Inline {
		names = append(names, in.Name)
		if in.Name == name {
			doc = in.Document
		}
	}
	return names, doc
}

func revokeSessions(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	before := time.Date(2026, 11, 23, 17, 14, 0, 500, time.UTC)
	for range 2 {
		if err := b.respond.PutRevokeSessions(ctx, "ci", before); err != nil {
			t.Fatal(err)
		}
	}
	names, doc := inline(t, b, "ci", respond.RevokePolicyName)
	cutoff, err := respond.RevokeSessionsCutoff(doc)
	if len(names) != 1 || err != nil || !cutoff.Equal(before.Truncate(time.Second).Add(time.Second)) {
		t.Errorf("inline policies %v, cutoff %v (%v); want one revocation at %v rounded up", names, cutoff, err, before)
	}
	for range 2 {
		if err := b.respond.DeleteRevokeSessions(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
	}
	if names, _ := inline(t, b, "ci", ""); len(names) != 0 {
		t.Errorf("after delete: inline policies %v", names)
	}
}

func quarantine(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	for range 2 {
		if err := b.respond.AttachQuarantine(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
	}
	p, err := b.respond.UserPolicies(ctx, "ci")
	if err != nil || !slices.Equal(p.Set.Attached, []string{respond.QuarantinePolicyARN}) || p.Catalog.Managed[respond.QuarantinePolicyARN] == "" {
		t.Errorf("UserPolicies = %+v, %v; want the quarantine policy attached once, with its document", p, err)
	}
	for range 2 {
		if err := b.respond.DetachQuarantine(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := b.respond.UserPolicies(ctx, "ci"); err != nil || len(p.Set.Attached) != 0 {
		t.Errorf("after detach: %+v, %v", p.Set, err)
	}
}

func consolePassword(t *testing.T, b backend) {
	ctx := context.Background()
	b.createUser(t, "ci")
	if had, err := b.respond.DisableConsole(ctx, "ci"); had || err != nil {
		t.Errorf("DisableConsole without a password = %v, %v; want false", had, err)
	}
	b.setLoginProfile(t, "ci")
	if had, err := b.respond.DisableConsole(ctx, "ci"); !had || err != nil {
		t.Errorf("DisableConsole = %v, %v; want true", had, err)
	}
	if had, err := b.respond.DisableConsole(ctx, "ci"); had || err != nil {
		t.Errorf("DisableConsole again = %v, %v; want false", had, err)
	}
}
