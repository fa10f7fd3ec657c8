package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// policy diff, apply, list and undo through the command line on moto: the
// diff names what goes, apply swaps, a second apply is refused (the name is
// taken), list shows the apply, undo puts the two policies back.
func TestPolicyDiffApplyListUndo(t *testing.T) {
	awstest.Moto(t)
	dir := t.TempDir()
	t.Setenv("KEYWARDEN_STATE", filepath.Join(dir, "state.db"))
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := awsx.IAM(awstest.Fixture(cfg))
	for _, step := range []error{
		func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci-deploy")})
			return err
		}(),
		func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci-deploy"), PolicyName: aws.String("deploy"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*"],"Resource":"*"}]}`)})
			return err
		}(),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	sugg := filepath.Join(dir, "ci-deploy.json")
	if err := os.WriteFile(sugg, []byte(`{"principal":{"type":"user","name":"ci-deploy","account":"123456789012"},`+
		`"policy":{"Version":"2012-10-17","Statement":[{"Sid":"S01","Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances"],"Resource":"arn:aws:ec2:us-east-1:123456789012:instance/*"}]},`+
		`"actions":[{"action":"ec2:StartInstances","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"],"first_seen":"`+now+`","last_seen":"`+now+`","count":4,"source":"cloudtrail"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runMain(t, "policy", "diff", sugg)
	t.Logf("diff:\n%s", out)
	if code != ExitOK || !strings.Contains(out, "user ci-deploy: 2 removed, 0 added, 2 unchanged") ||
		!strings.Contains(out, "  - s3:* on * (inline:deploy)") || !strings.Contains(out, "  = ec2:StartInstances on arn:aws:ec2:us-east-1:123456789012:instance/*") {
		t.Fatalf("diff: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = runMain(t, "policy", "diff", sugg, "--format", "json")
	var d struct {
		Principal struct{ Name string }
		Policies  []string
		Services  []struct {
			Service   string
			Removed   []struct{ Action, Resource, Source string }
			Unchanged []struct{ Action, Resource string }
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != ExitOK || d.Principal.Name != "ci-deploy" ||
		len(d.Policies) != 1 || len(d.Services) != 2 || d.Services[0].Removed[0].Source != "inline:deploy" {
		t.Fatalf("diff --format json: exit %d, %v\n%s", code, err, out)
	}
	out, stderr, code = runMain(t, "policy", "apply", sugg, "--yes")
	t.Logf("apply:\n%s%s", out, stderr)
	id := regexp.MustCompile(`lp-[0-9TZ]+-[0-9a-f]+`).FindString(out)
	if code != ExitOK || id == "" || !strings.Contains(out, "holds arn:aws:iam::123456789012:policy/keywarden/keywarden-lp-ci-deploy (instead of 0 managed and 1 inline policy)") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code = runMain(t, "policy", "apply", sugg, "--yes"); code != ExitError ||
		!strings.Contains(stderr, "keywarden: refused: policy arn:aws:iam::123456789012:policy/keywarden/keywarden-lp-ci-deploy exists") {
		t.Errorf("second apply: exit %d\n%s", code, stderr)
	}
	out, _, code = runMain(t, "policy", "list")
	t.Logf("list:\n%s", out)
	if code != ExitOK || !strings.Contains(out, id) || !strings.Contains(out, "applied") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	out, stderr, code = runMain(t, "policy", "undo", id)
	t.Logf("undo:\n%s", out)
	if code != ExitOK || !strings.Contains(out, "holds 0 managed and 1 inline policy again") {
		t.Fatalf("undo: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code = runMain(t, "policy", "undo", id); code != ExitError || !strings.Contains(stderr, "nothing to undo") {
		t.Errorf("undo twice: exit %d\n%s", code, stderr)
	}
	got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ci-deploy"), PolicyName: aws.String("deploy")})
	if err != nil || !strings.Contains(aws.ToString(got.PolicyDocument), "ec2") {
		t.Errorf("the inline policy is not back: %v", err)
	}
}
