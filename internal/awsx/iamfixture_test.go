package awsx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// The IAM fixture of respond's tests; it came with the audit reader's tests,
// which moved to internal/audit/auditaws, and goes when respond's do.

const (
	scopedPolicy     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`
	createUserPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:GetUser"],"Resource":"*"}]}`
)

// motoAccount is the account moto serves to any credentials it did not issue.
const motoAccount = "123456789012"

// account builds IAM state in moto through the real SDK.
type account struct {
	t   *testing.T
	iam *iam.Client
}

func newAccount(t *testing.T) *account {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &account{t: t, iam: iam.NewFromConfig(cfg)}
}

// must fails the test on err. EntityAlreadyExists is not an error here:
// moto is reset before each test, so it means the SDK retried a create that
// had succeeded (moto's server can drop a connection after answering when
// the machine is loaded, and the retry then finds the entity).
func (a *account) must(_ any, err error) {
	a.t.Helper()
	var exists *iamtypes.EntityAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		a.t.Fatal(err)
	}
}

func (a *account) user(name, inline string) {
	a.t.Helper()
	a.must(a.iam.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name)}))
	if inline != "" {
		a.must(a.iam.PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{
			UserName: aws.String(name), PolicyName: aws.String("inline"), PolicyDocument: aws.String(inline)}))
	}
}

func (a *account) key(user string, status iamtypes.StatusType) string {
	a.t.Helper()
	out, err := a.iam.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		a.t.Fatal(err)
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	if status == iamtypes.StatusTypeInactive {
		a.must(a.iam.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{
			UserName: aws.String(user), AccessKeyId: aws.String(id), Status: status}))
	}
	return id
}

func (a *account) groupWithInline(group, doc string, members ...string) {
	a.t.Helper()
	ctx := context.Background()
	a.must(a.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}))
	a.must(a.iam.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{
		GroupName: aws.String(group), PolicyName: aws.String("g"), PolicyDocument: aws.String(doc)}))
	for _, m := range members {
		a.must(a.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(m)}))
	}
}

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(awstest.ModuleRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
