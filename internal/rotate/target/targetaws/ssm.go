package targetaws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

// ssmAPI is the part of Systems Manager Parameter Store the target uses.
type ssmAPI interface {
	GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(context.Context, *ssm.DeleteParameterInput, ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// ssmTarget is ssm:/path (one JSON parameter) or ssm:/prefix/ (two plain ones).
type ssmTarget struct {
	spec string
	name string // the parameter, or the prefix when it ends in "/"
	api  ssmAPI
}

// param is a parameter as it was before Deliver, enough to put it back.
type param struct {
	name        string
	exists      bool
	value       string
	typ         ssmtypes.ParameterType
	keyID       string
	tier        ssmtypes.ParameterTier
	description string
}

func newSSM(spec, name string, api ssmAPI) (target.Target, error) {
	if name == "" || name == "/" {
		return nil, errors.New("ssm needs a parameter name (/path) or a prefix ending in / (/prefix/)")
	}
	if strings.ContainsAny(name, " \t\r\n") {
		return nil, errors.New("a parameter name has no white space")
	}
	return &ssmTarget{spec: spec, name: name, api: api}, nil
}

func (t *ssmTarget) String() string { return t.spec }

func (t *ssmTarget) Deliver(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	if err := target.Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	restore, err := t.deliver(ctx, c)
	if err != nil {
		return nil, target.Scrub(fmt.Errorf("deliver to %s: %w", t.spec, err), c)
	}
	return func(ctx context.Context) error {
		if err := restore(ctx); err != nil {
			return target.Scrub(fmt.Errorf("restore %s: %w", t.spec, err), c)
		}
		return nil
	}, nil
}

// Check reads the parameters as delivery will (no change): they must be
// readable with these credentials and a JSON parameter hold a JSON object.
func (t *ssmTarget) Check(ctx context.Context) error {
	names := []string{t.name}
	if strings.HasSuffix(t.name, "/") {
		vars := target.Pair(target.Credentials{})
		names = []string{t.name + vars[0][0], t.name + vars[1][0]}
	}
	for _, name := range names {
		old, err := t.read(ctx, name)
		if err != nil {
			return fmt.Errorf("target %s: %w", t.spec, err)
		}
		if name == t.name {
			if err := target.CheckKeyFields(old.value); err != nil {
				return fmt.Errorf("target %s: parameter %s: %w", t.spec, name, err)
			}
		}
	}
	return nil
}

func (t *ssmTarget) deliver(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	if !strings.HasSuffix(t.name, "/") {
		old, err := t.read(ctx, t.name)
		if err != nil {
			return nil, err
		}
		next, err := target.SetKeyFields(old.value, c)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w; nothing written", t.name, err)
		}
		if err := t.write(ctx, old, next); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return t.put(ctx, old) }, nil
	}
	// Read both before writing either, so a failed read leaves both untouched.
	var olds []param
	for _, kv := range target.Pair(c) {
		old, err := t.read(ctx, t.name+kv[0])
		if err != nil {
			return nil, err
		}
		olds = append(olds, old)
	}
	for i, kv := range target.Pair(c) {
		if err := t.write(ctx, olds[i], kv[1]); err != nil {
			if i > 0 { // best effort: do not leave a half-rotated pair behind
				_ = t.put(ctx, olds[0])
			}
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		return errors.Join(t.put(ctx, olds[0]), t.put(ctx, olds[1]))
	}, nil
}

// read returns the parameter's decrypted value and the settings a rewrite
// must keep (KMS key, tier, description); exists is false when there is none.
func (t *ssmTarget) read(ctx context.Context, name string) (param, error) {
	p := param{name: name}
	out, err := t.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var notFound *ssmtypes.ParameterNotFound
	if errors.As(err, &notFound) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("get parameter %s: %w", name, err)
	}
	p.exists, p.value, p.typ = true, aws.ToString(out.Parameter.Value), out.Parameter.Type
	desc, err := t.api.DescribeParameters(ctx, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}},
	})
	if err != nil {
		return p, fmt.Errorf("describe parameter %s: %w", name, err)
	}
	for _, m := range desc.Parameters {
		if aws.ToString(m.Name) == name {
			p.keyID, p.tier, p.description = aws.ToString(m.KeyId), m.Tier, aws.ToString(m.Description)
		}
	}
	return p, nil
}

// write stores value as a SecureString in old's place, keeping its KMS key,
// tier and description; an unchanged SecureString is not written again.
func (t *ssmTarget) write(ctx context.Context, old param, value string) error {
	if old.exists && old.value == value && old.typ == ssmtypes.ParameterTypeSecureString {
		return nil
	}
	next := old
	next.exists, next.value, next.typ = true, value, ssmtypes.ParameterTypeSecureString
	if old.typ != ssmtypes.ParameterTypeSecureString {
		next.keyID = "" // a String parameter has no key: use the account's default
	}
	return t.put(ctx, next)
}

// put makes the parameter p (or deletes it when p did not exist).
func (t *ssmTarget) put(ctx context.Context, p param) error {
	if !p.exists {
		_, err := t.api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(p.name)})
		var notFound *ssmtypes.ParameterNotFound
		if err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("delete parameter %s: %w", p.name, err)
		}
		return nil
	}
	in := &ssm.PutParameterInput{
		Name: aws.String(p.name), Value: aws.String(p.value), Type: p.typ,
		Overwrite: aws.Bool(true), Tier: p.tier,
	}
	if p.keyID != "" && p.typ == ssmtypes.ParameterTypeSecureString {
		in.KeyId = aws.String(p.keyID)
	}
	if p.description != "" {
		in.Description = aws.String(p.description)
	}
	if _, err := t.api.PutParameter(ctx, in); err != nil {
		return fmt.Errorf("put parameter %s: %w", p.name, err)
	}
	return nil
}
