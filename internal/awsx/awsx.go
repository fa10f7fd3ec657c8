// Package awsx is what every verb's AWS access shares: loading aws.Config
// (profiles, AWS_ENDPOINT_URL, region), building clients, classifying AWS's
// errors (access denied, no such entity), the caller's identity, the
// account's regions, and STS's verdict on a key. It knows no verb: each
// consumer's calls live in its own adapter beside it (auditaws, respondaws,
// rotateaws, vaultaws, cloudtrailaws, watchaws, targetaws), behind the
// interface its engine declares, and cmd/keywarden's layers test keeps it so.
package awsx

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// Options select the AWS configuration; empty fields fall back to the SDK's
// own resolution (AWS_PROFILE, AWS_REGION, ~/.aws/config).
type Options struct {
	Profile string
	Region  string
	// SettingsOnly takes Profile for its settings (region, endpoint_url,
	// retries, CA bundle) and never for its credentials, for a caller that
	// signs with keys of its own (WithKey): a role profile's mfa_serial
	// then asks for no code, and AWS_PROFILE is not looked up.
	SettingsOnly bool
}

// errSettingsOnly answers an MFA prompt of a configuration loaded for its
// settings: its role credentials are never meant to be used.
var errSettingsOnly = errors.New("configuration loaded for its settings only: no credentials")

// Load resolves the AWS configuration the way the AWS CLI does. Endpoint
// overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, endpoint_url in the
// profile) are honoured by the SDK's clients themselves.
//
// What every verb shares comes with it: an endpoint where nothing listens
// fails within seconds as a *ConnectError naming it (a short dial timeout,
// few retries of a failed connect; answers such as throttling keep the
// caller's retries); a chain that finds no credentials fails as a
// *NoCredentialsError saying where it looked, a missing profile as a
// *ProfileNotFoundError; every client reads error codes leniently
// (LenientErrors).
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	budget := &connectBudget{}
	lo := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient()),
		config.WithLogger(sdkLogger{logging.NewStandardLogger(os.Stderr)}),
		config.WithAPIOptions([]func(*middleware.Stack) error{budget.register, LenientErrors}),
	}
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.SettingsOnly {
		lo = append(lo, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			o.TokenProvider = func() (string, error) { return "", errSettingsOnly }
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if missing := profileNotFound(err, opts); missing != nil {
		return aws.Config{}, missing
	}
	if err != nil {
		if opts.Profile != "" {
			return aws.Config{}, fmt.Errorf("load aws config for profile %q: %w", opts.Profile, err)
		}
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	explainCredentials(&cfg, opts)
	return cfg, nil
}
