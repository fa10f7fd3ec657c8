package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
)

// TestAuditAgainstMoto runs the real binary path (Main, the SDK, the account
// reader) against moto: an administrator's new key, judged 100 days from now,
// is too old, unused and held by an administrator.
func TestAuditAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	key := moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	stdout, stderr, code := auditMain(t, "--as-of", "+100d", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	var onKey []string
	for _, f := range decodeFindings(t, stdout) {
		if f.KeyID == key.KeyID && f.Resource == key.ARN {
			onKey = append(onKey, f.Check)
		}
	}
	for _, want := range []string{"KW-KEY-AGE", "KW-KEY-UNUSED", "KW-KEY-ADMIN"} {
		if !slices.Contains(onKey, want) {
			t.Errorf("no %s finding on %s's key; findings on it: %v\nstdout:\n%s", want, key.User, onKey, stdout)
		}
	}
	if !strings.Contains(stderr, "credential report generated") {
		t.Errorf("stderr does not say how old the credential report is:\n%s", stderr)
	}
}

// TestAuditFlagsReachTheReaderAgainstMoto: --regions chooses where the
// instances are read (an instance without a role in eu-west-1 is found
// there only), and --key-ids=false names keys by slot alone.
func TestAuditFlagsReachTheReaderAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	key := moto.CreateUserKey(t, "deploy")
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	client := ec2.NewFromConfig(awstest.Fixture(cfg))
	images, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("moto lists no amazon images: %v", err)
	}
	if _, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro}); err != nil {
		t.Fatal(err)
	}
	instanceIn := func(regions string) bool {
		stdout, stderr, code := auditMain(t, "--regions", regions, "--format", "json")
		if code != ExitFindings {
			t.Fatalf("--regions %s: exit %d; stderr:\n%s", regions, code, stderr)
		}
		return slices.ContainsFunc(decodeFindings(t, stdout), func(f audit.Finding) bool {
			return f.Check == "KW-EC2-NO-PROFILE" && f.Evidence["region"] == "eu-west-1"
		})
	}
	if instanceIn("us-east-1") || !instanceIn("eu-west-1") {
		t.Error("the instance in eu-west-1 must be found with --regions eu-west-1 only")
	}

	stdout, stderr, code := auditMain(t, "keys", "--regions", "us-east-1", "--key-ids=false", "--format", "json")
	var rows []struct {
		User  string `json:"user"`
		KeyID string `json:"key_id"`
		Slot  int    `json:"key_slot"`
	}
	if err := json.Unmarshal([]byte(stdout), &rows); code != ExitOK || err != nil {
		t.Fatalf("audit keys: exit %d, %v; stderr:\n%s", code, err, stderr)
	}
	if len(rows) != 1 || rows[0].User != "deploy" || rows[0].KeyID != "" || rows[0].Slot != 1 {
		t.Errorf("--key-ids=false: rows %+v, want deploy's key by slot 1 alone (not %s)", rows, key.KeyID)
	}
}

// TestAuditAccessDeniedAgainstMoto: a caller without the audit's rights
// (moto enforcing IAM) gets one line naming the denied action, a hint
// pointing at docs/iam.md, one naming the caller, and exit 2.
func TestAuditAccessDeniedAgainstMoto(t *testing.T) {
	moto := awstest.MotoWithAuth(t)
	key := moto.CreateUserKey(t, "nobody")
	load := func(ctx context.Context, o awsx.Options) (aws.Config, error) {
		cfg, err := awsx.Load(ctx, o)
		return awsx.WithKey(cfg, credential.Key{ID: key.KeyID, Secret: key.Secret}), err
	}
	var stdout, stderr strings.Builder
	code := Main([]string{"audit", "--regions", "us-east-1"}, Deps{Stdout: &stdout, Stderr: &stderr, LoadAWS: load})
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != ExitError || len(lines) != 3 || !strings.HasPrefix(lines[0], "keywarden: audit: ") ||
		!strings.Contains(lines[0], "access denied") || !strings.Contains(lines[0], "iam:") ||
		!strings.Contains(lines[1], "hint: docs/iam.md") || lines[2] != "hint: the calls were made as "+key.ARN || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
}
