package awstest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Fixture returns a copy of cfg for the clients a test builds its fixtures
// with, where every create is idempotent. On a loaded machine moto can do a
// create and the SDK still retry it (the answer came too late or the
// connection dropped after it), and the retry then fails: "already exists",
// or, for the calls AWS never refuses twice, a second key, instance or task
// revision the test did not ask for. Through Fixture's clients:
//
//   - a create whose last attempt says "already exists" after an earlier
//     attempt of the same call is read back, and is a success when what
//     exists is what was asked for (same value, path, type), with the output
//     built from what was read;
//   - CreateAccessKey retried deletes the keys the lost attempts created, so
//     the user has exactly the one key returned;
//   - the creates a retry cannot be told from a duplicate of (noRetry) are
//     not retried.
//
// A create that fails on its first attempt fails as before: a test that
// means to hit "already exists" still does. Code under test gets the plain
// config, never this one.
func Fixture(cfg aws.Config) aws.Config {
	plain := cfg.Copy()
	out := cfg.Copy()
	out.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		if err := s.Initialize.Add(idempotent{plain}, middleware.Before); err != nil {
			return err
		}
		return s.Finalize.Insert(noRetryAttempt{}, "Retry", middleware.After)
	})
	return out
}

// noRetry are the creates AWS answers twice with two resources: a retry of
// one that moto had done would leave an extra instance, task definition
// revision, account or policy version behind.
var noRetry = map[string]bool{
	"EC2.RunInstances":            true,
	"ECS.RegisterTaskDefinition":  true,
	"Organizations.CreateAccount": true,
	"IAM.CreatePolicyVersion":     true,
	"Lambda.PublishVersion":       true,
}

// noRetryAttempt runs inside the SDK's retry loop: for a noRetry operation
// it marks the attempt's error as not retryable.
type noRetryAttempt struct{}

func (noRetryAttempt) ID() string { return "awstest.NoRetry" }

func (noRetryAttempt) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleFinalize(ctx, in)
	if err != nil && noRetry[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)] {
		err = notRetryable{err}
	}
	return out, md, err
}

// notRetryable is an attempt's error the retryer must not retry.
type notRetryable struct{ error }

func (notRetryable) RetryableError() bool { return false }
func (e notRetryable) Unwrap() error      { return e.error }

// idempotent wraps the whole call, retries included.
type idempotent struct{ cfg aws.Config }

func (idempotent) ID() string { return "awstest.Idempotent" }

func (m idempotent) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	newKey, _ := in.Parameters.(*iam.CreateAccessKeyInput)
	var keysBefore []string
	var listErr error
	if newKey != nil {
		// Listed before, so the keys a lost attempt makes can be told
		// from the user's own; a list that fails leaves the create as it is
		// (its own error, if any, is the one to see).
		keysBefore, listErr = m.accessKeys(ctx, newKey.UserName)
	}
	out, md, err := next.HandleInitialize(ctx, in)
	if attempts, _ := retry.GetAttemptResults(md); len(attempts.Results) < 2 {
		return out, md, err
	}
	if newKey != nil {
		if err != nil || listErr != nil {
			return out, md, err
		}
		made := aws.ToString(out.Result.(*iam.CreateAccessKeyOutput).AccessKey.AccessKeyId)
		return out, md, m.dropStrayKeys(ctx, newKey.UserName, append(keysBefore, made))
	}
	code, read := m.existing(in.Parameters)
	var api smithy.APIError
	if read == nil || !errors.As(err, &api) || api.ErrorCode() != code {
		return out, md, err
	}
	result, rerr := read(ctx)
	if rerr != nil {
		return out, md, fmt.Errorf("%w (after a retry; what exists is not what was asked for: %v)", err, rerr)
	}
	out.Result = result
	return out, md, nil
}

// accessKeys lists the ids of user's keys (the caller's when user is nil).
func (m idempotent) accessKeys(ctx context.Context, user *string) ([]string, error) {
	out, err := iam.NewFromConfig(m.cfg).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	return ids, nil
}

// dropStrayKeys deletes user's keys that are not in keep: the ones a
// retried CreateAccessKey's lost attempts made.
func (m idempotent) dropStrayKeys(ctx context.Context, user *string, keep []string) error {
	now, err := m.accessKeys(ctx, user)
	if err != nil {
		return fmt.Errorf("list access keys after a retried create: %w", err)
	}
	for _, id := range now {
		if slices.Contains(keep, id) {
			continue
		}
		if _, err := iam.NewFromConfig(m.cfg).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: aws.String(id)}); err != nil {
			return fmt.Errorf("delete the access key a retried create left: %w", err)
		}
	}
	return nil
}

// reader reads back what a create made, as the create's output, or says
// how it differs from what the input asked for.
type reader func(context.Context) (any, error)

// existing is the "already exists" error code of the create params asks
// for, and how to read back what exists; nil for any other call.
func (m idempotent) existing(params any) (string, reader) {
	switch p := params.(type) {
	case *iam.CreateUserInput:
		return "EntityAlreadyExists", func(ctx context.Context) (any, error) {
			got, err := iam.NewFromConfig(m.cfg).GetUser(ctx, &iam.GetUserInput{UserName: p.UserName})
			if err != nil {
				return nil, err
			}
			return &iam.CreateUserOutput{User: got.User}, same("path", iamPath(p.Path), aws.ToString(got.User.Path))
		}
	case *iam.CreateGroupInput:
		return "EntityAlreadyExists", func(ctx context.Context) (any, error) {
			got, err := iam.NewFromConfig(m.cfg).GetGroup(ctx, &iam.GetGroupInput{GroupName: p.GroupName})
			if err != nil {
				return nil, err
			}
			return &iam.CreateGroupOutput{Group: got.Group}, same("path", iamPath(p.Path), aws.ToString(got.Group.Path))
		}
	case *iam.CreateRoleInput:
		return "EntityAlreadyExists", func(ctx context.Context) (any, error) {
			got, err := iam.NewFromConfig(m.cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: p.RoleName})
			if err != nil {
				return nil, err
			}
			return &iam.CreateRoleOutput{Role: got.Role}, same("path", iamPath(p.Path), aws.ToString(got.Role.Path))
		}
	case *iam.CreateInstanceProfileInput:
		return "EntityAlreadyExists", func(ctx context.Context) (any, error) {
			got, err := iam.NewFromConfig(m.cfg).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: p.InstanceProfileName})
			if err != nil {
				return nil, err
			}
			return &iam.CreateInstanceProfileOutput{InstanceProfile: got.InstanceProfile}, nil
		}
	case *iam.CreateLoginProfileInput:
		return "EntityAlreadyExists", func(ctx context.Context) (any, error) {
			got, err := iam.NewFromConfig(m.cfg).GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: p.UserName})
			if err != nil {
				return nil, err
			}
			return &iam.CreateLoginProfileOutput{LoginProfile: got.LoginProfile}, nil
		}
	case *iam.CreatePolicyInput:
		return "EntityAlreadyExists", m.readPolicy(p)
	case *ssm.PutParameterInput:
		return "ParameterAlreadyExists", func(ctx context.Context) (any, error) {
			got, err := ssm.NewFromConfig(m.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: p.Name, WithDecryption: aws.Bool(true)})
			if err != nil {
				return nil, err
			}
			return &ssm.PutParameterOutput{Version: got.Parameter.Version},
				errors.Join(same("value", aws.ToString(p.Value), aws.ToString(got.Parameter.Value)),
					same("type", string(p.Type), string(got.Parameter.Type)))
		}
	case *secretsmanager.CreateSecretInput:
		return "ResourceExistsException", func(ctx context.Context) (any, error) {
			got, err := secretsmanager.NewFromConfig(m.cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: p.Name})
			if err != nil {
				return nil, err
			}
			return &secretsmanager.CreateSecretOutput{ARN: got.ARN, Name: got.Name, VersionId: got.VersionId},
				errors.Join(same("secret string", aws.ToString(p.SecretString), aws.ToString(got.SecretString)),
					same("secret binary", string(p.SecretBinary), string(got.SecretBinary)))
		}
	case *dynamodb.CreateTableInput:
		return "ResourceInUseException", func(ctx context.Context) (any, error) {
			got, err := dynamodb.NewFromConfig(m.cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: p.TableName})
			if err != nil {
				return nil, err
			}
			return &dynamodb.CreateTableOutput{TableDescription: got.Table}, nil
		}
	case *s3.CreateBucketInput:
		return "BucketAlreadyOwnedByYou", func(ctx context.Context) (any, error) {
			if _, err := s3.NewFromConfig(m.cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: p.Bucket}); err != nil {
				return nil, err
			}
			return &s3.CreateBucketOutput{Location: aws.String("/" + aws.ToString(p.Bucket))}, nil
		}
	case *cloudtrail.CreateTrailInput:
		return "TrailAlreadyExistsException", func(ctx context.Context) (any, error) {
			got, err := cloudtrail.NewFromConfig(m.cfg).GetTrail(ctx, &cloudtrail.GetTrailInput{Name: p.Name})
			if err != nil {
				return nil, err
			}
			tr := got.Trail
			return &cloudtrail.CreateTrailOutput{Name: tr.Name, TrailARN: tr.TrailARN, S3BucketName: tr.S3BucketName, IsMultiRegionTrail: tr.IsMultiRegionTrail},
				same("bucket", aws.ToString(p.S3BucketName), aws.ToString(tr.S3BucketName))
		}
	case *lambda.CreateFunctionInput:
		return "ResourceConflictException", func(ctx context.Context) (any, error) {
			got, err := lambda.NewFromConfig(m.cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: p.FunctionName})
			if err != nil {
				return nil, err
			}
			return &lambda.CreateFunctionOutput{FunctionName: got.FunctionName, FunctionArn: got.FunctionArn, Role: got.Role},
				same("role", aws.ToString(p.Role), aws.ToString(got.Role))
		}
	case *organizations.CreateOrganizationInput:
		return "AlreadyInOrganizationException", func(ctx context.Context) (any, error) {
			got, err := organizations.NewFromConfig(m.cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			if err != nil {
				return nil, err
			}
			return &organizations.CreateOrganizationOutput{Organization: got.Organization}, nil
		}
	}
	return "", nil
}

// readPolicy finds the customer managed policy p asked for by its name and path.
func (m idempotent) readPolicy(p *iam.CreatePolicyInput) reader {
	return func(ctx context.Context) (any, error) {
		pages := iam.NewListPoliciesPaginator(iam.NewFromConfig(m.cfg), &iam.ListPoliciesInput{Scope: "Local", PathPrefix: p.Path})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, pol := range page.Policies {
				if aws.ToString(pol.PolicyName) == aws.ToString(p.PolicyName) {
					return &iam.CreatePolicyOutput{Policy: &pol}, same("path", iamPath(p.Path), aws.ToString(pol.Path))
				}
			}
		}
		return nil, fmt.Errorf("no policy %s", aws.ToString(p.PolicyName))
	}
}

func iamPath(p *string) string {
	if p == nil {
		return "/"
	}
	return *p
}

// same says how what exists differs from what was asked for, or nil.
func same(what, asked, got string) error {
	if asked == got {
		return nil
	}
	return fmt.Errorf("%s differs", what) // never the values: one may be a secret
}
