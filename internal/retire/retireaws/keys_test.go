package retireaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/retire/retireaws"
)

type dir string

func (d dir) Read(ctx context.Context, o cloudtrail.Options, sink cloudtrail.Sink) error {
	return cloudtrail.ReadDir(ctx, string(d), o, sink)
}

// trail writes a CloudTrail log file of calls: key, address, user agent.
func trail(t *testing.T, account string, at time.Time, calls ...[4]string) string {
	t.Helper()
	var recs []map[string]any
	for i, c := range calls {
		user, key, addr, ua := c[0], c[1], c[2], c[3]
		recs = append(recs, map[string]any{
			"eventVersion": "1.09", "eventTime": at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1",
			"sourceIPAddress": addr, "userAgent": ua, "eventID": "e" + string(rune('a'+i)),
			"requestParameters": map[string]string{"bucketName": "artifacts", "key": "build/" + user + ".zip"},
			"userIdentity": map[string]string{"type": "IAMUser", "userName": user, "accessKeyId": key, "accountId": account,
				"principalId": "AIDA" + strings.ToUpper(user), "arn": "arn:aws:iam::" + account + ":user/" + user},
			"recipientAccountId": account,
		})
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	name := filepath.Join(d, account+"_CloudTrail_us-east-1_"+at.Format("20060102T1504Z")+"_test.json")
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// On moto: the account's keys come from IAM (an idle key too), the events
// of a key used from an EC2 address, one from GitHub Actions and one from
// a laptop are each classified right, and each gets its replacement with
// the permissions its own calls need.
func TestPlanOverMotoClassifiesEachKey(t *testing.T) {
	awstest.Moto(t)
	acct := awstest.NewIAMAccount(t)
	for _, u := range []string{"app", "ci", "alice", "idle"} {
		acct.User(u, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	}
	acct.User("vendor", "")
	acct.Must(acct.IAM.TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String("vendor"),
		Tags: []iamtypes.Tag{{Key: aws.String("third-party"), Value: aws.String("true")}}}))
	keys := map[string]string{}
	for _, u := range []string{"app", "ci", "alice", "idle", "vendor"} {
		keys[u] = acct.Key(u, iamtypes.StatusTypeActive)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lister := retireaws.NewKeyLister(cfg)
	all, err := lister.AllKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("AllKeys = %+v, want the 5 keys", all)
	}
	account, err := lister.Account(context.Background())
	if err != nil || account == "" {
		t.Fatalf("account %q, %v", account, err)
	}
	now := time.Now().UTC()
	logs := trail(t, account, now.Add(-48*time.Hour),
		[4]string{"app", keys["app"], "3.5.140.2", "Boto3/1.34.40 md/Botocore#1.34.40 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.9.16"},
		[4]string{"app", keys["app"], "3.5.140.2", "Boto3/1.34.40 md/Botocore#1.34.40 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.9.16"},
		[4]string{"ci", keys["ci"], "4.148.0.17", "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/command#s3.cp"},
		[4]string{"alice", keys["alice"], "81.2.69.160", "aws-cli/2.15.59 md/awscrt#0.19.19 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.11.11 md/command#s3.cp"},
		[4]string{"vendor", keys["vendor"], "3.5.140.9", "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64"},
	)
	p, err := retire.MakePlan(context.Background(), retire.Request{Keys: all, Since: now.Add(-90 * 24 * time.Hour), Until: now, Target: retire.Target{Account: account}},
		retire.Env{Sources: []policy.Named{{Name: logs, Source: dir(logs)}}, Rights: policyaws.New(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		class retire.Class
		kind  string
	}{
		"app": {retire.ClassAWS, retire.ReplaceInstanceProfile}, "ci": {retire.ClassGitHub, retire.ReplaceGitHubOIDC},
		"alice": {retire.ClassPerson, retire.ReplaceExecRole}, "idle": {retire.ClassUnused, retire.ReplaceDelete},
		"vendor": {retire.ClassThirdParty, retire.ReplaceExternalIDRole}, // tagged third-party=true, calling from EC2's range
	}
	for _, k := range p.Keys {
		w := want[k.User]
		if k.AccessKeyID != keys[k.User] || k.Class != w.class || k.Replacement.Kind != w.kind {
			t.Errorf("%s %s: %s %s, want %s %s (%+v)", k.User, k.AccessKeyID, k.Class, k.Replacement.Kind, w.class, w.kind, k.Evidence)
			continue
		}
		if k.Class == retire.ClassUnused {
			if k.Permissions != nil || k.Replacement.Role != "" {
				t.Errorf("idle key: %+v, want delete without a role", k.Replacement)
			}
			continue
		}
		if k.Permissions == nil || len(k.Permissions.Actions) != 1 || k.Permissions.Actions[0].Action != "s3:GetObject" {
			t.Errorf("%s: permissions %+v, want s3:GetObject from its own call", k.User, k.Permissions)
		}
		for _, part := range trustHas(k.User, account) {
			if !strings.Contains(string(k.Replacement.Trust), part) {
				t.Errorf("%s: trust %s does not hold %s", k.User, k.Replacement.Trust, part)
			}
		}
	}
	if len(p.Keys) != 5 {
		t.Fatalf("%d keys planned, want 5", len(p.Keys))
	}
}

// trustHas is what each replacement's trust policy must say.
func trustHas(user, account string) []string {
	switch user {
	case "app":
		return []string{`"ec2.amazonaws.com"`}
	case "vendor":
		return []string{`"sts:ExternalId"`, `"arn:aws:iam::<FILL-IN>:root"`}
	case "ci": // no --repo: the placeholder apply refuses, never a wildcard
		return []string{`"arn:aws:iam::` + account + `:oidc-provider/token.actions.githubusercontent.com"`,
			`"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"`, `"token.actions.githubusercontent.com:sub": "repo:<FILL-IN>:ref:refs/heads/main"`}
	}
	return []string{`"arn:aws:iam::` + account + `:user/alice"`, `"aws:MultiFactorAuthPresent": "true"`}
}

// A key id IAM does not know is not this account's: an error, never a
// plan to delete it.
func TestKeyNotInTheAccount(t *testing.T) {
	awstest.Moto(t)
	acct := awstest.NewIAMAccount(t)
	acct.User("app", "")
	id := acct.Key("app", iamtypes.StatusTypeActive)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l := retireaws.NewKeyLister(cfg)
	k, err := l.Key(context.Background(), id)
	if err != nil || k.User != "app" || k.Status != "Active" || !k.LastUseKnown {
		t.Fatalf("Key(%s) = %+v, %v", id, k, err)
	}
	other := awstest.FakeKeyID("elsewhere", 210987654321)
	if _, err := l.Key(context.Background(), other); !errors.Is(err, retire.ErrNoSuchKey) {
		t.Errorf("Key of another account's key: %v, want ErrNoSuchKey", err)
	}
}
