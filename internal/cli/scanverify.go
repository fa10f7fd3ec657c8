package cli

import (
	"context"
	"fmt"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/verify"
)

// verifyFindings checks every found key pair with STS GetCallerIdentity, signed
// with that key alone, and records active/invalid/unknown and the owner's ARN.
func verifyFindings(ctx context.Context, opts scanOptions, findings []scan.Finding) error {
	cfg, err := awsx.Load(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	vopts := verify.Options{Concurrency: opts.verifyConc, PerSecond: opts.verifyRate}
	if err := verify.Findings(ctx, awsx.NewKeyChecker(cfg), findings, vopts); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}
