package vaultaws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/vault"
	"github.com/keywarden/keywarden/internal/vault/vaultaws"
)

// TestMintSessionChainUnderAuth runs the chain on moto with auth
// enforcement, which (moto 5.2) refuses a call signed by a key it did not
// issue or by a principal whose policy does not allow the action, and
// evaluates trust policies: their principal and an sts:ExternalId
// condition. alice may assume role1 only and role1 may assume role2 only,
// so the chain passes only if each step signs with the session before it
// and sends that step's external id. Moto still does not check MFA.
func TestMintSessionChainUnderAuth(t *testing.T) {
	tests := []struct {
		name, ext2, wantErr string
	}{
		{"right external ids", "ext-2", ""},
		{"wrong external id is refused at its step", "not-ext-2", "assume role arn:aws:iam::123456789012:role/role2 for profile \"B\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := awstest.MotoWithAuth(t)
			alice := s.CreateUserKey(t, "alice", allowAssume("role1"))
			admin := s.CreateUserKey(t, "admin", awstest.AdminPolicy)
			t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
			createTrustedRole(t, "role1", alice.ARN, "ext-1", allowAssume("role2"))
			createTrustedRole(t, "role2", "arn:aws:sts::123456789012:assumed-role/role1/a-session", tt.ext2, "")
			// The environment's key must not be what signs: make it useless.
			t.Setenv("AWS_ACCESS_KEY_ID", awstest.FakeKeyID("nobody", 123456789012))
			t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.FakeSecret("nobody"))
			creds, config := chainFiles(t, alice, "")
			if err := config.Set("A", "role_session_name", "a-session"); err != nil {
				t.Fatal(err)
			}
			spec, err := vault.SessionSpecFor(creds, config, "B", credential.Key{})
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_MAX_ATTEMPTS", "1")
			key, _, err := vaultaws.MintSession(context.Background(), loadCfg(t), spec, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "AccessDenied") {
					t.Fatalf("err = %v, want AccessDenied at %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			who := awsx.NewKeyChecker(loadCfg(t)).CheckKey(context.Background(), key)
			if !strings.Contains(who.ARN, ":assumed-role/role2/bob-session") {
				t.Errorf("minted key is %q (%v), want a session of role2", who.ARN, who.Err)
			}
		})
	}
}

func allowAssume(role string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",` +
		`"Resource":"arn:aws:iam::123456789012:role/` + role + `"}]}`
}

// createTrustedRole makes a role that principal may assume with externalID,
// with an optional inline policy.
func createTrustedRole(t *testing.T, name, principal, externalID, policy string) {
	t.Helper()
	client := iam.NewFromConfig(awstest.Fixture(loadCfg(t)))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},` +
		`"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"` + externalID + `"}}}]}`
	ctx := context.Background()
	if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	if policy == "" {
		return
	}
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name),
		PolicyName: aws.String("assume"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatalf("put policy on role %s: %v", name, err)
	}
}
