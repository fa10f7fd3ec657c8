package awstest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestFixtureCreateRetriedAfterMotoDidItSucceeds(t *testing.T) {
	s := Moto(t)
	l := &Lossy{Op: "CreateUser", Forward: true}
	cfg := l.Start(t, s)

	out, err := iam.NewFromConfig(Fixture(cfg)).CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("alice")})
	l.Check(t)
	if err != nil {
		t.Fatalf("CreateUser through Fixture, answer lost once: %v", err)
	}
	if aws.ToString(out.User.UserName) != "alice" || !strings.HasSuffix(aws.ToString(out.User.Arn), ":user/alice") {
		t.Errorf("output = %+v, want alice's user as moto has it", out.User)
	}
}

// The flake itself: without Fixture, the same lost answer fails the create.
func TestPlainCreateRetriedAfterMotoDidItFails(t *testing.T) {
	s := Moto(t)
	l := &Lossy{Op: "PutParameter", Forward: true}
	cfg := l.Start(t, s)

	_, err := ssm.NewFromConfig(cfg).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/app/p"), Value: aws.String("v1"), Type: ssmtypes.ParameterTypeString})
	l.Check(t)
	var exists *ssmtypes.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("plain PutParameter, answer lost once: %v, want ParameterAlreadyExists (the flake Fixture removes)", err)
	}
}

func TestFixturePutParameterRetriedReadsBackTheVersion(t *testing.T) {
	s := Moto(t)
	l := &Lossy{Op: "PutParameter", Forward: true}
	cfg := l.Start(t, s)

	out, err := ssm.NewFromConfig(Fixture(cfg)).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/app/p"), Value: aws.String("v1"), Type: ssmtypes.ParameterTypeString})
	l.Check(t)
	if err != nil || out.Version != 1 {
		t.Fatalf("PutParameter through Fixture, answer lost once: version %v, %v; want version 1", out, err)
	}
}

// What exists is not what was asked for: the retry's "already exists" stands.
func TestFixtureRetriedCreateFindingAnotherValueFails(t *testing.T) {
	s := Moto(t)
	l := &Lossy{Op: "PutParameter"}
	cfg := l.Start(t, s)
	if _, err := ssm.NewFromConfig(s.plainConfig(t)).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/app/p"), Value: aws.String("other"), Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}

	_, err := ssm.NewFromConfig(Fixture(cfg)).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/app/p"), Value: aws.String("mine"), Type: ssmtypes.ParameterTypeString})
	l.Check(t)
	var exists *ssmtypes.ParameterAlreadyExists
	if !errors.As(err, &exists) || !strings.Contains(err.Error(), "value differs") || strings.Contains(err.Error(), "other") {
		t.Fatalf("err = %v, want ParameterAlreadyExists that says the value differs without quoting it", err)
	}
}

// A create that fails on its first attempt is not retried, so a test that
// means to hit "already exists" still does.
func TestFixtureFirstAttemptAlreadyExistsStillFails(t *testing.T) {
	s := Moto(t)
	api := iam.NewFromConfig(Fixture(s.plainConfig(t)))
	ctx := context.Background()
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("second CreateUser = %v, want EntityAlreadyExists", err)
	}
}

func TestFixtureCreateAccessKeyRetriedLeavesOneKey(t *testing.T) {
	s := Moto(t)
	ctx := context.Background()
	if _, err := iam.NewFromConfig(s.plainConfig(t)).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	l := &Lossy{Op: "CreateAccessKey", Forward: true}
	api := iam.NewFromConfig(Fixture(l.Start(t, s)))

	out, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	l.Check(t)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != aws.ToString(out.AccessKey.AccessKeyId) {
		t.Fatalf("alice has %d keys, want 1: the one CreateAccessKey returned", len(keys.AccessKeyMetadata))
	}
}

// A create AWS answers twice with two resources is not retried: the call
// fails, and no second resource is made.
func TestFixtureNoRetryCreateIsNotRepeated(t *testing.T) {
	s := Moto(t)
	ctx := context.Background()
	pol, err := iam.NewFromConfig(s.plainConfig(t)).CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("p"), PolicyDocument: aws.String(AdminPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	l := &Lossy{Op: "CreatePolicyVersion", Forward: true}
	api := iam.NewFromConfig(Fixture(l.Start(t, s)))

	if _, err := api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
		PolicyArn: pol.Policy.Arn, PolicyDocument: aws.String(AdminPolicy)}); err == nil {
		t.Fatal("CreatePolicyVersion with its answer lost succeeded, want the lost answer's error")
	}
	l.Check(t)
	versions, err := api.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: pol.Policy.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(versions.Versions); n != 2 {
		t.Fatalf("policy has %d versions, want 2 (v1 and the one moto made; no retry)", n)
	}
}

// plainConfig is a config straight to s.
func (s *MotoServer) plainConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(Region), config.WithBaseEndpoint(s.URL))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFixtureEveryCreateRetriedAfterMotoDidItSucceeds: each create Fixture
// knows, its answer lost once after moto did it, succeeds with an output
// read back from what exists.
func TestFixtureEveryCreateRetriedAfterMotoDidItSucceeds(t *testing.T) {
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for _, tc := range []struct {
		op     string
		before func(cfg aws.Config) error // with a plain client straight to moto
		create func(cfg aws.Config) (string, error)
	}{
		{op: "CreateRole", create: func(cfg aws.Config) (string, error) {
			out, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)})
			return ifOK(err, func() string { return aws.ToString(out.Role.Arn) })
		}},
		{op: "CreateGroup", create: func(cfg aws.Config) (string, error) {
			out, err := iam.NewFromConfig(cfg).CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")})
			return ifOK(err, func() string { return aws.ToString(out.Group.Arn) })
		}},
		{op: "CreatePolicy", create: func(cfg aws.Config) (string, error) {
			out, err := iam.NewFromConfig(cfg).CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(AdminPolicy)})
			return ifOK(err, func() string { return aws.ToString(out.Policy.Arn) })
		}},
		{op: "CreateInstanceProfile", create: func(cfg aws.Config) (string, error) {
			out, err := iam.NewFromConfig(cfg).CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")})
			return ifOK(err, func() string { return aws.ToString(out.InstanceProfile.Arn) })
		}},
		{op: "CreateLoginProfile",
			before: func(cfg aws.Config) error {
				_, err := iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")})
				return err
			},
			create: func(cfg aws.Config) (string, error) {
				out, err := iam.NewFromConfig(cfg).CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("Correct-Horse-9-Battery")})
				return ifOK(err, func() string { return aws.ToString(out.LoginProfile.UserName) })
			}},
		{op: "CreateSecret", create: func(cfg aws.Config) (string, error) {
			out, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")})
			return ifOK(err, func() string { return aws.ToString(out.ARN) })
		}},
		{op: "CreateTable", create: func(cfg aws.Config) (string, error) {
			out, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("t"),
				AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: dbtypes.ScalarAttributeTypeS}},
				KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: dbtypes.KeyTypeHash}},
				BillingMode:          dbtypes.BillingModePayPerRequest})
			return ifOK(err, func() string { return aws.ToString(out.TableDescription.TableArn) })
		}},
		{op: "CreateOrganization", create: func(cfg aws.Config) (string, error) {
			out, err := organizations.NewFromConfig(cfg).CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
			return ifOK(err, func() string { return aws.ToString(out.Organization.Arn) })
		}},
		{op: "CreateTrail",
			before: func(cfg aws.Config) error {
				_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")})
				return err
			},
			create: func(cfg aws.Config) (string, error) {
				out, err := cloudtrail.NewFromConfig(cfg).CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("trail"), S3BucketName: aws.String("logs")})
				return ifOK(err, func() string { return aws.ToString(out.TrailARN) })
			}},
		{op: "PUT /bucket", create: func(cfg aws.Config) (string, error) {
			out, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bucket")})
			return ifOK(err, func() string { return aws.ToString(out.Location) })
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			s := Moto(t)
			if tc.before != nil {
				if err := tc.before(s.plainConfig(t)); err != nil {
					t.Fatal(err)
				}
			}
			l := &Lossy{Op: tc.op, Forward: true}
			got, err := tc.create(Fixture(l.Start(t, s)))
			l.Check(t)
			if err != nil || got == "" {
				t.Fatalf("%s through Fixture, answer lost once: %q, %v", tc.op, got, err)
			}
		})
	}
}

// ifOK is what name gives when err is nil.
func ifOK(err error, name func() string) (string, error) {
	if err != nil {
		return "", err
	}
	return name(), nil
}
