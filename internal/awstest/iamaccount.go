package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAMAccount builds IAM state in moto through the real SDK: users, keys,
// groups and policies a test then reads back through keywarden's adapters.
// Build IAM with a Fixture config, so a retried create is not a failure.
type IAMAccount struct {
	T   testing.TB
	IAM *iam.Client
}

// NewIAMAccount builds in the account the environment points at (Moto's
// SetEnv), with the environment's credentials, through a Fixture client.
func NewIAMAccount(t testing.TB) *IAMAccount {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &IAMAccount{T: t, IAM: iam.NewFromConfig(Fixture(cfg))}
}

// Must fails the test on err.
func (a *IAMAccount) Must(_ any, err error) {
	a.T.Helper()
	if err != nil {
		a.T.Fatal(err)
	}
}

// User creates a user, with an inline policy "inline" unless it is "".
func (a *IAMAccount) User(name, inline string) {
	a.T.Helper()
	a.Must(a.IAM.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name)}))
	if inline != "" {
		a.Must(a.IAM.PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{
			UserName: aws.String(name), PolicyName: aws.String("inline"), PolicyDocument: aws.String(inline)}))
	}
}

// Key creates an access key for user with status and returns its id.
func (a *IAMAccount) Key(user string, status iamtypes.StatusType) string {
	a.T.Helper()
	out, err := a.IAM.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		a.T.Fatal(err)
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	if status == iamtypes.StatusTypeInactive {
		a.Must(a.IAM.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{
			UserName: aws.String(user), AccessKeyId: aws.String(id), Status: status}))
	}
	return id
}

// GroupWithInline creates a group with one inline policy, and members in it.
func (a *IAMAccount) GroupWithInline(group, doc string, members ...string) {
	a.T.Helper()
	ctx := context.Background()
	a.Must(a.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}))
	a.Must(a.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{
		GroupName: aws.String(group), PolicyName: aws.String("g"), PolicyDocument: aws.String(doc)}))
	for _, m := range members {
		a.Must(a.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(m)}))
	}
}

// ManagedPolicy creates a customer managed policy and returns its ARN.
func (a *IAMAccount) ManagedPolicy(name, doc string) string {
	a.T.Helper()
	out, err := a.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{
		PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		a.T.Fatal(err)
	}
	return aws.ToString(out.Policy.Arn)
}

// Attach attaches a managed policy to user.
func (a *IAMAccount) Attach(user, arn string) {
	a.T.Helper()
	a.Must(a.IAM.AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{
		UserName: aws.String(user), PolicyArn: aws.String(arn)}))
}
