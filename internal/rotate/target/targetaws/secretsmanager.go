package targetaws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

// smAPI is the part of Secrets Manager the target uses.
type smAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

type secretsManagerTarget struct {
	spec string
	id   string // name or ARN
	api  smAPI
}

func newSecretsManager(spec, id string, api smAPI) (target.Target, error) {
	if id == "" {
		return nil, errors.New("secretsmanager needs a secret name or ARN")
	}
	return &secretsManagerTarget{spec: spec, id: id, api: api}, nil
}

func (t *secretsManagerTarget) String() string { return t.spec }

func (t *secretsManagerTarget) Deliver(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	if err := target.Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	restore, err := t.deliver(ctx, c)
	if err != nil {
		return nil, target.Scrub(fmt.Errorf("deliver to %s: %w", t.spec, err), c)
	}
	return restore, nil
}

// Check reads the secret as delivery will (no change): it must be readable
// with these credentials and, when it exists, hold a JSON object.
func (t *secretsManagerTarget) Check(ctx context.Context) error {
	cur, err := t.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(t.id)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return nil // delivery creates it
	case err != nil:
		return fmt.Errorf("target %s: get secret value: %w", t.spec, err)
	case cur.SecretString == nil:
		return fmt.Errorf("target %s: the secret holds binary data, not a JSON string", t.spec)
	}
	if err := target.CheckKeyFields(aws.ToString(cur.SecretString)); err != nil {
		return fmt.Errorf("target %s: secret string: %w", t.spec, err)
	}
	return nil
}

func (t *secretsManagerTarget) deliver(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	cur, err := t.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(t.id)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return t.create(ctx, c)
	case err != nil:
		return nil, fmt.Errorf("get secret value: %w", err)
	case cur.SecretString == nil:
		return nil, errors.New("the secret holds binary data, not a JSON string; nothing written")
	}
	old := aws.ToString(cur.SecretString)
	next, err := target.SetKeyFields(old, c)
	if err != nil {
		return nil, fmt.Errorf("secret string: %w; nothing written", err)
	}
	if next == old {
		// Already delivered by an earlier, interrupted run: AWS moved the
		// value we replaced then to AWSPREVIOUS, so that is what restore puts back.
		return t.restorePrevious(ctx, c)
	}
	if err := t.put(ctx, next); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		return target.Scrub(t.wrapRestore(t.put(ctx, old)), c)
	}, nil
}

// create makes the secret. A secret that exists without a current value
// (created empty) cannot be created again: it gets the value instead.
func (t *secretsManagerTarget) create(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	if strings.HasPrefix(t.id, "arn:") {
		return nil, errors.New("no such secret (create it, or give its name so keywarden can create it)")
	}
	next, _ := target.SetKeyFields("", c)
	_, err := t.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(t.id),
		SecretString: aws.String(next),
		Description:  aws.String("AWS access key of IAM user " + c.UserName + ", managed by keywarden rotate"),
	})
	var exists *smtypes.ResourceExistsException
	if errors.As(err, &exists) {
		return nil, t.put(ctx, next)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	return func(ctx context.Context) error {
		_, err := t.api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
			SecretId: aws.String(t.id), ForceDeleteWithoutRecovery: aws.Bool(true)})
		if err != nil {
			err = fmt.Errorf("delete secret: %w", err)
		}
		return t.wrapRestore(err)
	}, nil
}

func (t *secretsManagerTarget) restorePrevious(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	prev, err := t.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(t.id), VersionStage: aws.String("AWSPREVIOUS")})
	var notFound *smtypes.ResourceNotFoundException
	if errors.As(err, &notFound) || (err == nil && prev.SecretString == nil) {
		return nil, nil // nothing older to go back to
	}
	if err != nil {
		return nil, fmt.Errorf("get previous secret value: %w", err)
	}
	old := aws.ToString(prev.SecretString)
	return func(ctx context.Context) error {
		return target.Scrub(t.wrapRestore(t.put(ctx, old)), c)
	}, nil
}

func (t *secretsManagerTarget) put(ctx context.Context, value string) error {
	_, err := t.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(t.id), SecretString: aws.String(value)})
	if err != nil {
		return fmt.Errorf("put secret value: %w", err)
	}
	return nil
}

func (t *secretsManagerTarget) wrapRestore(err error) error {
	if err != nil {
		return fmt.Errorf("restore %s: %w", t.spec, err)
	}
	return nil
}
