package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/scan/collect"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/verify"
)

// runScan collects the findings of every input, verifies, reports, and
// turns "found something" into errFindings.
func runScan(ctx context.Context, opts scanOptions, deps Deps) error {
	start := deps.Now()
	stats, warn := &scan.Stats{}, newWarner(deps.Stderr)
	count := func() (int64, int64) { return stats.Objects.Load(), stats.Bytes.Load() }
	var progress *ui.Progress
	if !opts.quiet {
		progress = ui.StartProgress(deps.Stderr, count, 250*time.Millisecond)
	}
	in := opts.Options
	in.Stdin, in.Stats, in.Warn = deps.Stdin, stats, warn.add
	findings, err := collect.Findings(ctx, in)
	progress.Stop()
	warn.flush()
	if errors.Is(err, collect.ErrNoInput) {
		return withHint(err, "give a file, a directory, an archive or - for stdin")
	}
	if err != nil {
		return err
	}
	if opts.verify {
		if err := verifyFindings(ctx, opts, deps, findings); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	if err := writeScanReport(opts, deps, findings); err != nil {
		return err
	}
	if !opts.quiet && ui.IsTerminal(deps.Stderr) {
		fmt.Fprintf(deps.Stderr, "%s: %d finding(s)\n", ui.Rate(count, deps.Now().Sub(start)), len(findings))
	}
	if scan.Fails(findings, opts.failOn.level) {
		return errFindings
	}
	return nil
}

// verifyFindings checks every found key pair with STS GetCallerIdentity,
// signed with that key alone, and records active/invalid/unknown and the
// owner's ARN.
func verifyFindings(ctx context.Context, opts scanOptions, deps Deps, findings []scan.Finding) error {
	cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return err
	}
	vopts := verify.Options{Concurrency: opts.verifyConc, PerSecond: opts.verifyRate}
	return verify.Findings(ctx, awsx.NewKeyChecker(cfg), findings, vopts)
}

func writeScanReport(opts scanOptions, deps Deps, findings []scan.Finding) error {
	perm := os.FileMode(0o644)
	if opts.showSecrets {
		perm = 0o600 // a report with clear secrets is itself a credentials file
	}
	return writeOutput(deps, opts.output, perm, func(w io.Writer, color bool) error {
		ropts := report.Options{ShowSecrets: opts.showSecrets, Version: Version(), Color: color}
		return report.WriteScan(w, opts.format.value, findings, ropts)
	})
}
