// Package targetaws delivers a rotated key to AWS services: a Secrets
// Manager secret (secretsmanager:NAME|ARN) and Systems Manager parameters
// (ssm:/path, ssm:/prefix/). target.Parse makes these targets when its
// Env.Kinds holds Kinds.
package targetaws

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

// Kinds are this package's target kinds, for target.Env.Kinds. Their
// targets call AWS with cfg's credentials, region and endpoints.
func Kinds(cfg aws.Config) map[string]target.Kind {
	return map[string]target.Kind{
		"secretsmanager": func(spec, id string, _ target.Env) (target.Target, error) {
			return newSecretsManager(spec, id, secretsmanager.NewFromConfig(cfg))
		},
		"ssm": func(spec, name string, _ target.Env) (target.Target, error) {
			return newSSM(spec, name, ssm.NewFromConfig(cfg))
		},
	}
}
