package canaryaws_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/verify"
)

func TestMain(m *testing.M) { awstest.Main(m) }

var arnRE = regexp.MustCompile(`arn:aws:iam::[0-9]{12}:user/[^ ]+`)

// rig is an engine on the moto server the environment points at, with a
// state database and a directory for placements of its own.
type rig struct {
	t   *testing.T
	cfg aws.Config
	e   *canary.Engine
	dir string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := state.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &rig{t: t, cfg: cfg, dir: dir, e: &canary.Engine{IAM: canaryaws.New(cfg), DB: db, Now: time.Now,
		Listed: verify.KnownCanaries()}}
}

// iam is the test's own client (fixtures and checks): a create retried after
// a lost answer is no duplicate.
func (r *rig) iam() *iam.Client { return awsx.IAM(awstest.Fixture(r.cfg)) }

// credentialsPlacement plants name's key in a credentials file of its own.
func (r *rig) credentialsPlacement() canary.Placement {
	return canary.Placement{Format: "credentials", Path: filepath.Join(r.dir, "credentials")}
}

// keyOf reads the canary's key back from its credentials placement.
func keyOf(t *testing.T, path, profile string) credential.Key {
	t.Helper()
	f, _, err := awsfile.Load(path, awsfile.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := f.Get(profile, "aws_access_key_id")
	sec, _ := f.Get(profile, "aws_secret_access_key")
	if id == "" || sec == "" {
		t.Fatalf("no key in profile %s of %s", profile, path)
	}
	return credential.Key{ID: id, Secret: secret.New(sec)}
}

// With IAM authorization enforced, the canary's key is refused every call
// (it has no permission), and still after AdministratorAccess and an
// allow-all inline policy are given to its user: the explicit deny wins.
// The refusal names the user ARN, which is what an unlogged probe learns,
// so it must read as an ordinary user.
func TestCanaryKeyIsDeniedEvenAsAdministrator(t *testing.T) {
	srv := awstest.MotoWithAuth(t)
	admin := srv.CreateUserKey(t, "admin", awstest.AdminPolicy)
	t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	r := newRig(t)
	ctx := context.Background()
	res, err := r.e.Create(ctx, canary.CreateOptions{Name: "billing-export", Placements: []canary.Placement{r.credentialsPlacement()}})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Canary
	asCanary := awsx.WithKey(r.cfg, keyOf(t, r.credentialsPlacement().Path, "billing-export"))
	probe := func(when string) {
		t.Helper()
		_, err := s3.NewFromConfig(asCanary).ListBuckets(ctx, &s3.ListBucketsInput{})
		if !awsx.IsDenied(err) {
			t.Fatalf("%s: s3 ListBuckets with the canary key: want AccessDenied, got %v", when, err)
		}
		_, err = awsx.IAM(asCanary).ListUsers(ctx, &iam.ListUsersInput{})
		if !awsx.IsDenied(err) {
			t.Fatalf("%s: iam ListUsers with the canary key: want AccessDenied, got %v", when, err)
		}
		// AWS names the user ARN with its path; moto leaves the path out.
		shown := arnRE.FindString(err.Error())
		if !strings.HasSuffix(shown, "/"+c.User) {
			t.Fatalf("%s: the refusal does not name the user (%v)", when, awsx.Plain(err))
		}
		for _, arn := range []string{shown, c.ARN} {
			_, path, user, ok := canary.UserOfARN(arn)
			if tells := canary.Tells(path, user); !ok || len(tells) > 0 {
				t.Errorf("the ARN a probe reads, %s, tells: %v", arn, tells)
			}
		}
	}
	probe("as created")

	adminPolicy, err := r.iam().CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("AdministratorAccess"),
		PolicyDocument: aws.String(awstest.AdminPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.iam().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(c.User), PolicyArn: adminPolicy.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.iam().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(c.User), PolicyName: aws.String("full"),
		PolicyDocument: aws.String(awstest.AdminPolicy)}); err != nil {
		t.Fatal(err)
	}
	probe("with AdministratorAccess attached")
}

// The whole life cycle on moto: create plants the key in every format (the
// aws CLI signs with the credentials profile as the canary's user), the
// user is tagged with nothing and holds only the deny-all policy; rotate
// puts a new key everywhere and deletes the old; delete leaves no user,
// key or policy, and every file as it was (or gone, where create made it).
func TestLifecycle(t *testing.T) {
	srv := awstest.Moto(t)
	r := newRig(t)
	ctx := context.Background()
	own := map[string]string{
		"credentials": "[default]\naws_access_key_id = " + awstest.FakeKeyID("mine", 123456789012) + "\naws_secret_access_key = " + awstest.FakeSecret("mine") + "\n",
		"dotenv":      "DATABASE_URL=postgres://db/app\n",
		"k8s":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
	}
	var places []canary.Placement
	for _, f := range canary.FormatNames {
		p := canary.Placement{Format: f, Path: filepath.Join(r.dir, "placed", f)}
		if s, ok := own[f]; ok {
			os.MkdirAll(filepath.Dir(p.Path), 0o700)
			if err := os.WriteFile(p.Path, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		places = append(places, p)
	}
	res, err := r.e.Create(ctx, canary.CreateOptions{Name: "orders-sync", Placements: places})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Canary
	r.holds(c, places)
	if got := callerARN(t, srv, places[0].Path, "orders-sync"); got != c.ARN {
		t.Errorf("aws sts get-caller-identity --profile orders-sync: %s, want %s", got, c.ARN)
	}
	tags, err := r.iam().ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(c.User)})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("the canary user has tags %v (%v)", tags, err)
	}
	pols, err := r.iam().ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(c.User)})
	if err != nil || len(pols.PolicyNames) != 1 || pols.PolicyNames[0] != c.Policy {
		t.Fatalf("inline policies %v (%v)", pols, err)
	}

	rot, err := r.e.Rotate(ctx, "orders-sync")
	if err != nil {
		t.Fatal(err)
	}
	if rot.AccessKeyID == c.AccessKeyID {
		t.Fatal("rotate kept the key")
	}
	r.holds(rot, places)
	if strings.Contains(r.read(places[1].Path), c.AccessKeyID) {
		t.Error("the old key id is still in the dotenv placement")
	}

	removed, err := r.e.Delete(ctx, "orders-sync")
	if err != nil || len(removed.Missing) != 0 {
		t.Fatalf("delete: %v (missing %v)", err, removed.Missing)
	}
	r.nothingLeft(places, own)
}

// callerARN asks the aws CLI who the profile's key is.
func callerARN(t *testing.T, srv *awstest.MotoServer, credentials, profile string) string {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		awstest.SkipOrFail(t, "aws CLI not found on PATH")
	}
	cmd := exec.Command("aws", "sts", "get-caller-identity", "--profile", profile, "--endpoint-url", srv.URL,
		"--query", "Arn", "--output", "text")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_SHARED_CREDENTIALS_FILE="+credentials)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func (r *rig) read(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// holds checks that IAM has exactly c's key for c's user and that every
// placement file holds it.
func (r *rig) holds(c canary.Canary, places []canary.Placement) {
	r.t.Helper()
	keys, err := r.iam().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(c.User)})
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, k := range keys.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	if len(ids) != 1 || ids[0] != c.AccessKeyID {
		r.t.Fatalf("IAM keys of %s: %v, want only %s", c.User, ids, c.AccessKeyID)
	}
	for _, p := range places {
		data := r.read(p.Path)
		if p.Format == "k8s" {
			continue // base64 there; the format tests read it back
		}
		if !strings.Contains(data, c.AccessKeyID) {
			r.t.Errorf("%s does not hold the key %s", p.Path, c.AccessKeyID)
		}
	}
}

// nothingLeft checks that no canary user is left in IAM, no canary is
// listed, and every file is as it was before (or absent).
func (r *rig) nothingLeft(places []canary.Placement, own map[string]string) {
	r.t.Helper()
	ctx := context.Background()
	users, err := r.iam().ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, u := range users.Users {
		if aws.ToString(u.UserName) != "admin" {
			r.t.Errorf("user %s%s is left", aws.ToString(u.Path), aws.ToString(u.UserName))
		}
	}
	list, err := r.e.List(ctx)
	if err != nil || len(list) != 0 {
		r.t.Errorf("canaries listed after delete: %v (%v)", list, err)
	}
	for _, p := range places {
		data, err := os.ReadFile(p.Path)
		want, had := own[p.Format]
		switch {
		case !had && !errors.Is(err, os.ErrNotExist):
			r.t.Errorf("%s: the file keywarden made is left", p.Path)
		case had && string(data) != want:
			r.t.Errorf("%s: not back to its bytes:\n%q", p.Path, data)
		}
		entries, _ := os.ReadDir(filepath.Dir(p.Path))
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".keywarden-tmp") {
				r.t.Errorf("temporary file %s is left", e.Name())
			}
		}
	}
}

// A create in an account on a public canary list is refused before any
// change, and made only with Force, saying so.
func TestListedAccountIsRefused(t *testing.T) {
	awstest.Moto(t)
	r := newRig(t)
	r.e.Listed = map[string]string{"123456789012": "a test list"}
	ctx := context.Background()
	_, err := r.e.Create(ctx, canary.CreateOptions{Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "account 123456789012 is on a public list of canary accounts (a test list)") {
		t.Fatalf("want a refusal, got %v", err)
	}
	r.nothingLeft(nil, nil)
	res, err := r.e.Create(ctx, canary.CreateOptions{Name: "x", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "public list") {
		t.Errorf("want a warning, got %v", res.Warnings)
	}
	r.e.Listed = nil
	if _, err := r.e.Create(ctx, canary.CreateOptions{Name: "y", User: "canarytokens.com@@abc"}); err == nil ||
		!strings.Contains(err.Error(), "would be told apart") {
		t.Errorf("a told --user must be refused: %v", err)
	}
}

// docs/policies/canary.json is enough for the whole life cycle: moto, with
// IAM authorization enforced, runs create, rotate and delete as a user
// holding exactly those actions (the resource widened to "*": moto matches
// actions, not resources), and refuses the delete once one of them is gone.
func TestDocumentedPolicySuffices(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(awstest.ModuleRoot(t), "docs/policies/canary.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(data), `"arn:aws:iam::*:user/*"`, `"*"`)
	srv := awstest.MotoWithAuth(t)
	keyadmin := srv.CreateUserKey(t, "keyadmin", doc)
	t.Setenv("AWS_ACCESS_KEY_ID", keyadmin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", keyadmin.Secret.Reveal())
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	r := newRig(t)
	ctx := context.Background()
	places := []canary.Placement{r.credentialsPlacement()}
	if _, err := r.e.Create(ctx, canary.CreateOptions{Name: "orders-sync", Placements: places}); err != nil {
		t.Fatalf("create as the documented policy: %v", err)
	}
	if _, err := r.e.Rotate(ctx, "orders-sync"); err != nil {
		t.Fatalf("rotate as the documented policy: %v", err)
	}
	narrowed := strings.Replace(doc, `"iam:DeleteUserPolicy",`, "", 1)
	narrow := srv.CreateUserKey(t, "narrow", narrowed)
	full := r.e.IAM
	r.e.IAM = canaryaws.New(awsx.WithKey(r.cfg, credential.Key{ID: narrow.KeyID, Secret: narrow.Secret}))
	if _, err := r.e.Delete(ctx, "orders-sync"); !awsx.IsDenied(err) || !strings.Contains(err.Error(), "delete-user-policy") {
		t.Fatalf("delete without iam:DeleteUserPolicy: want it denied, got %v", err)
	}
	r.e.IAM = full
	removed, err := r.e.Delete(ctx, "orders-sync")
	if err != nil {
		t.Fatalf("delete as the documented policy: %v", err)
	}
	if _, exists, err := full.UserARN(ctx, removed.Canary.User); exists || err != nil {
		t.Errorf("user %s left (%v)", removed.Canary.User, err)
	}
	if _, err := os.Stat(places[0].Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the credentials file keywarden made is left")
	}
}
