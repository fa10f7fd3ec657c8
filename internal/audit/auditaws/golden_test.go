package auditaws_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/report"
)

// TestReadAccountGolden reads one account holding a bit of everything the
// audit judges (admins through a group and through AWS's managed policy,
// dangerous rights inline, in a customer managed policy and in AWS's
// ReadOnlyAccess, an inactive key, trails, roles trusting other accounts,
// an instance without a profile, keys pasted in each place the reader
// looks) and pins what the audit prints of it: the findings in json and
// text, the key inventory, and the reader's warnings. What moto makes up at
// random (key and instance ids, dates) is replaced by stable stand-ins.
func TestReadAccountGolden(t *testing.T) {
	awstest.MotoWithManagedPolicies(t)
	cfg := loadConfig(t)
	ctx := context.Background()
	a := &awstest.IAMAccount{T: t, IAM: iam.NewFromConfig(awstest.Fixture(cfg))}
	keys := map[string]string{} // moto's key id -> stand-in label
	key := func(user string, status iamtypes.StatusType) { keys[a.Key(user, status)] = user + "/" + string(status) }

	a.User("nokeys", scopedPolicy)
	a.User("boss", "")
	key("boss", iamtypes.StatusTypeActive)
	a.GroupWithInline("admins", awstest.AdminPolicy, "boss")
	a.User("hirer", createUserPolicy)
	key("hirer", iamtypes.StatusTypeActive)
	key("hirer", iamtypes.StatusTypeInactive)
	a.User("mailer", "")
	pol, err := a.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("ses-sender"), PolicyDocument: aws.String(sesPolicy)})
	a.Must(pol, err)
	a.Must(a.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("mailer"), PolicyArn: pol.Policy.Arn}))
	key("mailer", iamtypes.StatusTypeActive)
	a.User("reader", "")
	a.Must(a.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	key("reader", iamtypes.StatusTypeActive)
	a.User("root-like", "")
	a.Must(a.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("root-like"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	key("root-like", iamtypes.StatusTypeActive)

	f := newInfra(t)
	f.trail("main", true, true)
	f.trail("local", false, false)
	f.role("partner", "arn:aws:iam::444455556666:root", "")
	f.role("vendor", "444455556666", `,"Condition":{"StringEquals":{"sts:ExternalId":"v-1"}}`)

	e := &embeddedFixture{t: t, cfg: cfg, ids: map[string]string{}}
	e.lambdaFunction("billing", map[string]string{
		"AWS_ACCESS_KEY_ID": e.id("lambda"), "AWS_SECRET_ACCESS_KEY": awstest.FakeSecret("lambda"), "STAGE": "prod"})
	e.instance(gzipped(t, fmt.Appendf(nil, "#cloud-config\nwrite_files:\n- content: |\n    aws_access_key_id = %s\n    aws_secret_access_key = %s\n",
		e.id("gzip"), awstest.FakeSecret("gzip"))))
	e.must(ecs.NewFromConfig(awstest.Fixture(cfg)).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("nginx"), Memory: aws.Int32(128),
			Environment: []ecstypes.KeyValuePair{
				{Name: aws.String("AWS_ACCESS_KEY_ID"), Value: aws.String(e.id("ecs"))},
				{Name: aws.String("AWS_SECRET_ACCESS_KEY"), Value: aws.String(awstest.FakeSecret("ecs"))},
			},
		}},
	}))
	e.must(ssm.NewFromConfig(awstest.Fixture(cfg)).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/legacy-key"),
		Type: ssmtypes.ParameterTypeString, Value: aws.String(e.id("ssm") + ":" + awstest.FakeSecret("ssm"))}))
	e.must(ssm.NewFromConfig(awstest.Fixture(cfg)).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/lone-secret"),
		Type: ssmtypes.ParameterTypeString, Value: aws.String("aws_secret_access_key = " + awstest.FakeSecret("lone"))}))

	inv, _ := readAccountIn(t, cfg, auditaws.Options{Regions: []string{cfg.Region}})

	// Stable ids before judging, so findings sort the same on every run.
	standIn := map[string]string{}
	for i := range inv.Users {
		for j := range inv.Users[i].Keys {
			k := &inv.Users[i].Keys[j]
			if label, ok := keys[k.ID]; ok {
				k.ID = awstest.FakeKeyID(label, 123456789012)
				standIn[k.ID] = "<key " + label + ">"
			}
		}
	}
	for seed, id := range e.ids {
		standIn[id] = "<key " + seed + ">"
	}
	asOf := time.Now().Add(100 * 24 * time.Hour)
	findings := audit.Run(*inv, audit.DefaultConfig(asOf))
	var out bytes.Buffer
	for _, format := range []string{"json", "text"} {
		fmt.Fprintf(&out, "== audit --format %s\n", format)
		if err := report.Write(&out, format, report.AuditDocument(findings), report.Options{Version: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	out.WriteString("== audit keys --format json\n")
	if err := report.Write(&out, "json", report.KeysDocument([]audit.Inventory{*inv}, findings, asOf), report.Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	out.WriteString("== warnings\n")
	for _, w := range inv.Warnings {
		out.WriteString(w + "\n")
	}
	got := out.String()
	for id, label := range standIn {
		got = strings.ReplaceAll(got, id, label)
	}
	got = regexp.MustCompile(`\bi-[0-9a-f]{8,17}\b`).ReplaceAllString(got, "i-<instance>")
	got = regexp.MustCompile(`\d{4}-\d\d-\d\d([T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?)?`).ReplaceAllString(got, "<date>")
	if leak := regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`).FindString(got); leak != "" {
		t.Fatalf("a key id without a stand-in is left in the output: %s", leak)
	}
	awstest.Golden(t, "audit-moto.golden", []byte(got))
}

// TestReadAccountDeniedGolden pins what the audit says when the caller may
// make the required reads only: every optional read is denied, warned
// about, and its facts judged unknown.
func TestReadAccountDeniedGolden(t *testing.T) {
	signAsRequiredReadsOnly(t)
	inv, _ := readAccount(t)
	var out bytes.Buffer
	if err := report.Write(&out, "text", report.AuditDocument(audit.Run(*inv, audit.DefaultConfig(time.Now()))), report.Options{}); err != nil {
		t.Fatal(err)
	}
	// Reads run concurrently, so their warnings come in any order.
	out.WriteString("== warnings, sorted\n")
	for _, w := range slices.Sorted(slices.Values(inv.Warnings)) {
		out.WriteString(w + "\n")
	}
	got := regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`).ReplaceAllString(out.String(), "<key>")
	got = regexp.MustCompile(`\d{4}-\d\d-\d\d([T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?)?`).ReplaceAllString(got, "<date>")
	awstest.Golden(t, "audit-moto-denied.golden", []byte(got))
}

// signAsRequiredReadsOnly makes the test's calls as an auditor allowed the
// audit's required reads and nothing else, on moto's authenticating server.
func signAsRequiredReadsOnly(t *testing.T) {
	t.Helper()
	auditor := awstest.MotoWithAuth(t).CreateUserKey(t, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"iam:GenerateCredentialReport","iam:GetCredentialReport","iam:GetAccountAuthorizationDetails"],"Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
}
