package rotate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/vault"
)

// keyAdmin is the policy of a role that manages access keys.
const keyAdmin = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListAccessKeys",` +
	`"iam:CreateAccessKey","iam:UpdateAccessKey","iam:DeleteAccessKey","iam:GetAccessKeyLastUsed"],"Resource":"*"}]}`

// TestRotateThroughARoleWithMFA rotates, on moto with IAM enforcement on,
// the key of a user that may only assume a key-admin role: its own
// identity is refused iam:ListAccessKeys (proved first), so the rotation of
// the profile naming role_arn, source_profile and mfa_serial asks one MFA
// code, assumes the role (vaultaws's chain) and makes its IAM calls as it,
// saying so on stderr and in the journal. Moto does not check the code,
// and under auth it refuses calls signed with GetSessionToken's
// credentials, so mfaSkipped asks for the code, checks the device the
// spec names, and mints the chain without the MFA step.
func TestRotateThroughARoleWithMFA(t *testing.T) {
	srv := awstest.MotoWithAuth(t)
	srv.SetEnv(t)
	admin := srv.CreateUserKey(t, "admin", awstest.AdminPolicy)
	deploy := srv.CreateUserKey(t, "deploy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/key-admin"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
	createRole(t, "key-admin", deploy.ARN, keyAdmin)
	// What the environment holds must not be what signs.
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.FakeKeyID("nobody", 123456789012))
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.FakeSecret("nobody"))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")

	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	profiles, _ := sharedFiles(t, "[default]\naws_access_key_id = "+deploy.KeyID+"\naws_secret_access_key = "+deploy.Secret.Reveal()+"\n",
		"[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/key-admin\nsource_profile = default\nmfa_serial = arn:aws:iam::123456789012:mfa/deploy\n")
	var out, errOut bytes.Buffer
	var asked []string
	profiles.Notes = &errOut
	s := &rotate.Session{DB: db, Signers: mfaSkipped{rotateaws.Signers{Load: awsx.Load}, t}, Profiles: profiles,
		MFACode: func(serial string) (string, error) { asked = append(asked, serial); return "123456", nil },
		Getenv:  func(string) string { return "" }, Out: &out, Err: &errOut, Now: time.Now, VerifyTimeout: 10 * time.Second}
	ctx := context.Background()

	if err := s.Rotate(ctx, rotate.Job{Profile: "default"}); err == nil || !strings.Contains(err.Error(), "iam list-access-keys") {
		t.Fatalf("the user's own key must be refused its keys: %v", err)
	}
	if err := s.Rotate(ctx, rotate.Job{Profile: "admin", Grace: 7 * 24 * time.Hour}); err != nil {
		t.Fatalf("through the role: %v\n%s%s", err, out.String(), errOut.String())
	}
	if len(asked) != 1 || asked[0] != "arn:aws:iam::123456789012:mfa/deploy" {
		t.Errorf("want one MFA code asked for the profile's device, got %q", asked)
	}
	const role = "arn:aws:sts::123456789012:assumed-role/key-admin/"
	if !strings.Contains(errOut.String(), "user deploy may not manage its own keys (iam:ListAccessKeys denied): the IAM calls sign as "+role) {
		t.Errorf("stderr must say which identity signed:\n%s", errOut.String())
	}
	all, err := rotate.List(ctx, db, false)
	if err != nil || len(all) != 1 {
		t.Fatalf("journal: %v, %v", all, err)
	}
	r := all[0]
	if !strings.HasPrefix(r.SignedAs, role) || r.Profile != "admin" || r.Step != rotate.StepDeactivated {
		t.Errorf("journal: signed as %q, profile %q, step %s", r.SignedAs, r.Profile, r.Step)
	}
	var status bytes.Buffer
	if err := rotate.WriteJSON(&status, all); err != nil || !strings.Contains(status.String(), `"signed_as": "`+role) {
		t.Errorf("status --format json must show who signed:\n%s", status.String())
	}
	status.Reset()
	if err := rotate.WriteTable(&status, all); err != nil || !strings.Contains(status.String(), "signed as "+role) {
		t.Errorf("status must show who signed:\n%s", status.String())
	}
	if !strings.Contains(out.String(), "rotated profile default (user deploy): "+deploy.KeyID+" -> "+r.NewKeyID) {
		t.Errorf("outcome:\n%s", out.String())
	}
	// Undo signs as the role again: the user still may not.
	if err := s.Undo(ctx, r, ""); err != nil {
		t.Fatalf("undo through the role: %v\n%s", err, errOut.String())
	}
	files, _ := profiles.Files()
	if data, _ := os.ReadFile(files.Credentials); !strings.Contains(string(data), deploy.KeyID) {
		t.Errorf("undo must put the old key back in the file:\n%s", data)
	}
}

// mfaSkipped mints role sessions without their MFA step (see above),
// once it asked for the code.
type mfaSkipped struct {
	rotateaws.Signers
	t *testing.T
}

func (m mfaSkipped) Role(ctx context.Context, spec vault.SessionSpec, region string, mfa func(string) (string, error)) (rotate.Signer, error) {
	if spec.MFASerial == "" {
		m.t.Error("the role's spec lost its mfa_serial")
	} else if _, err := mfa(spec.MFASerial); err != nil {
		return nil, err
	}
	spec.MFASerial = ""
	return m.Signers.Role(ctx, spec, region, nil)
}

// createRole makes a role that principal may assume, with policy.
func createRole(t *testing.T, name, principal, policy string) {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := awsx.IAM(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
	ctx := context.Background()
	if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name),
		PolicyName: aws.String("keys"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatalf("put policy on role %s: %v", name, err)
	}
}
