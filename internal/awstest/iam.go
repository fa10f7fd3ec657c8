package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/secret"
)

// AdminPolicy is an inline policy document that allows everything.
const AdminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// UserKey is an IAM user created in moto with one access key.
type UserKey struct {
	User   string
	ARN    string
	KeyID  string
	Secret secret.Secret
}

// CreateUserKey creates IAM user name with an access key and the given inline
// policy documents. On the auth server it suspends enforcement while it
// bootstraps, as an account's root would, and restores it after.
func (s *MotoServer) CreateUserKey(t testing.TB, name string, policies ...string) UserKey {
	t.Helper()
	if s.Auth {
		s.setAuth(t, false)
		defer s.setAuth(t, true)
	}
	ctx := context.Background()
	// Not awsx.Load: awsx imports packages (awsfile, cloudtrail, detect)
	// whose in-package tests import awstest, and that would be an import
	// cycle.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(Region))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(Fixture(cfg), func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL) })
	user, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("create user %s in moto: %v", name, err)
	}
	for i, doc := range policies {
		_, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: aws.String(name), PolicyName: aws.String("policy" + string(rune('a'+i))), PolicyDocument: aws.String(doc),
		})
		if err != nil {
			t.Fatalf("put policy on user %s in moto: %v", name, err)
		}
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("create access key for %s in moto: %v", name, err)
	}
	return UserKey{
		User:   name,
		ARN:    aws.ToString(user.User.Arn),
		KeyID:  aws.ToString(key.AccessKey.AccessKeyId),
		Secret: secret.New(aws.ToString(key.AccessKey.SecretAccessKey)),
	}
}
