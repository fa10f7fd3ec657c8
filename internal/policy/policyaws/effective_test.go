package policyaws_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
)

const (
	s3Read    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
	passRoles = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}]}`
	trust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// TestCurrentResolvesUsersAndRoles reads, from moto, a user's inline policy
// and a role's inline and attached ones, resolved as audit resolves them:
// what suggest's report of unused rights is judged against.
func TestCurrentResolvesUsersAndRoles(t *testing.T) {
	awstest.Moto(t)
	ctx := context.Background()
	acct := awstest.NewIAMAccount(t)
	acct.User("deploy", s3Read)
	acct.Must(acct.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("runner"), AssumeRolePolicyDocument: aws.String(trust)}))
	acct.Must(acct.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("runner"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(s3Read)}))
	pol, err := acct.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("launch"), PolicyDocument: aws.String(passRoles)})
	if err != nil {
		t.Fatal(err)
	}
	acct.Must(acct.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("runner"), PolicyArn: pol.Policy.Arn}))
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := policyaws.New(cfg)
	effective := func(p policy.Principal) (iampolicy.Effective, error) {
		cur, err := r.Current(ctx, p)
		if err != nil {
			return iampolicy.Effective{}, err
		}
		return cur.Effective()
	}
	user, err := effective(policy.Principal{Type: "user", Name: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if !iampolicy.AllowsCertainly(user, "s3:GetObject", "arn:aws:s3:::data/a") || iampolicy.AllowsCertainly(user, "iam:PassRole", "arn:aws:iam::123456789012:role/x") {
		t.Errorf("user's rights: %+v", user.Allow)
	}
	role, err := effective(policy.Principal{Type: "role", Name: "runner"})
	if err != nil {
		t.Fatal(err)
	}
	if !iampolicy.AllowsCertainly(role, "s3:GetObject", "arn:aws:s3:::data/a") || !iampolicy.AllowsCertainly(role, "iam:PassRole", "arn:aws:iam::123456789012:role/x") || len(role.Missing) != 0 {
		t.Errorf("role's rights: %+v, missing %v", role.Allow, role.Missing)
	}
	if _, err := effective(policy.Principal{Type: "role", Name: "nope"}); err == nil {
		t.Error("a role that does not exist was read")
	}
}
