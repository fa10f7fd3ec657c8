package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/allow"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/scan/collect"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/verify"
)

// runScan collects the findings of every input, verifies, reports, and
// maps the outcome to the exit status: findings (1), gaps (3: incomplete),
// nothing read at all (2), else 0.
func runScan(ctx context.Context, opts scanOptions, deps Deps) error {
	start, stats := deps.Now(), &scan.Stats{}
	stderr, stopProgress := io.Writer(deps.Stderr), func() {}
	if !opts.quiet {
		progress := ui.StartProgress(deps.Stderr, func() string { return scanProgress(stats, deps.Now().Sub(start)) }, 250*time.Millisecond)
		stderr, stopProgress = progress, progress.Stop // warnings clear the progress line first
	}
	warn := newWarner(stderr)
	// Until something is read, a warning may be the reason nothing could be.
	warn.holdWhile(func() bool { return stats.Objects.Load() == 0 })
	in := opts.Options
	in.Stdin, in.Stats, in.Warn = deps.Stdin, stats, warn.add
	res, err := collect.Findings(ctx, in)
	stopProgress() // before the report, which may go to the same terminal
	if errors.Is(err, collect.ErrNoInput) {
		return withHint(err, "give a file, a directory, an archive or - for stdin")
	}
	if err != nil {
		return err
	}
	if stats.Objects.Load() == 0 && len(res.Gaps) > 0 {
		return nothingRead(warn, opts, res.Gaps)
	}
	warn.flush()
	if err := markCanaries(ctx, deps, opts.statePath, res.Findings); err != nil {
		return err
	}
	if opts.verify {
		if opts.canaries, err = withConfigCanaries(opts); err != nil {
			return usageErr(err)
		}
		if err := verifyFindings(ctx, opts, deps, warn, res.Findings); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	if err := writeScanReport(opts, deps, res); err != nil {
		return err
	}
	read := fmt.Sprintf("%s read (%s in %.2fs)", english.Count(int(stats.Objects.Load()), "object"), ui.Size(stats.Bytes.Load()), deps.Now().Sub(start).Seconds())
	return scanOutcome(opts, stderr, res, read)
}

// scanOutcome is the exit status of a scan that read something, and its
// summary line: the incomplete line, when that is the outcome, is the summary.
func scanOutcome(opts scanOptions, stderr io.Writer, res collect.Result, read string) error {
	fails, gaps := scan.Fails(res.Findings, opts.failOn.level), len(res.Gaps)
	if gaps > 0 && !fails {
		return incomplete(gaps, fmt.Sprintf("%d could not be read (see the warnings); %s in the %s", gaps, findingsCount(len(res.Findings)), read), false)
	}
	if !opts.quiet {
		line := fmt.Sprintf("scan: %s in %s", findingsCount(len(res.Findings)), read)
		if gaps > 0 {
			line += fmt.Sprintf("; %d could not be read (see the warnings)", gaps)
		}
		fmt.Fprintln(stderr, line)
	}
	return incomplete(gaps, "", fails)
}

// scanProgress is the progress line: the phase and the work done.
func scanProgress(stats *scan.Stats, elapsed time.Duration) string {
	n := stats.Bytes.Load()
	return fmt.Sprintf("%s: %d objects, %s (%s)", stats.Phase(), stats.Objects.Load(), ui.Size(n), ui.Rate(n, elapsed))
}

func findingsCount(n int) string {
	if n == 0 {
		return "no findings"
	}
	return english.Count(n, "finding")
}

// nothingRead is the error of a scan that could read none of its input:
// one line saying why when there was one reason, else the warnings and
// a line naming the inputs.
func nothingRead(warn *warner, opts scanOptions, gaps []gap.Gap) error {
	if len(gaps) == 1 {
		warn.takeHeld()
		return fmt.Errorf("scan %s", gaps[0])
	}
	warn.flush()
	inputs := append(append([]string{}, opts.Paths...), opts.URLs...)
	if opts.CommitMsg != "" {
		inputs = append(inputs, opts.CommitMsg)
	}
	return fmt.Errorf("scan %s: nothing could be read (%d reasons, above)", strings.Join(inputs, " "), len(gaps))
}

// verifyFindings checks every found key pair with STS GetCallerIdentity,
// signed with that key alone, and records active/invalid/unknown and the
// owner's ARN (or canary, unsent, for a canary-token account); why keys came
// back unknown is one warning.
func verifyFindings(ctx context.Context, opts scanOptions, deps Deps, warn *warner, findings []scan.Finding) error {
	cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return err
	}
	vopts := verify.Options{Concurrency: opts.verifyConc, PerSecond: opts.verifyRate, Canaries: opts.canaries}
	unknown, err := verify.Findings(ctx, awsx.NewKeyChecker(cfg), findings, vopts)
	if n := unknown.Count(); n > 0 {
		why := make([]string, 0, len(unknown.Reasons))
		for _, r := range unknown.Reasons {
			why = append(why, fmt.Sprintf("%s (%s)", r.Why, english.Count(r.Keys, "key")))
		}
		warn.add(fmt.Errorf("--verify got no answer for %d of %s (unknown): %s", n, english.Count(unknown.Keys, "key"), strings.Join(why, "; ")))
		warn.flush()
	}
	return err
}

func writeScanReport(opts scanOptions, deps Deps, res collect.Result) error {
	perm := os.FileMode(0o644)
	if opts.showSecrets {
		perm = 0o600 // a report with clear secrets is itself a credentials file
	}
	return writeOutput(deps, opts.output, perm, func(w io.Writer, color bool) error {
		ropts := report.Options{ShowSecrets: opts.showSecrets, Version: Version(), Color: color}
		return report.WriteScan(w, opts.format.value, res.Findings, res.Gaps, ropts)
	})
}

// markCanaries reports the findings of registered canary keys as canaries,
// from the state database when one exists (scan never creates one).
func markCanaries(ctx context.Context, deps Deps, statePath string, findings []scan.Finding) error {
	reg, err := canary.LoadExisting(ctx, statePath, deps.OpenState)
	if err != nil || reg.Len() == 0 {
		return err
	}
	scan.MarkCanaries(findings, func(id string) (string, bool) {
		c, ok := reg.ByKey(id)
		return "canary " + c.Name + ", planted " + c.Where(), ok
	})
	return nil
}

// withConfigCanaries adds the [canary] accounts of each scanned root's
// .keywarden.toml (or --config) to the canary accounts --verify never sends.
func withConfigCanaries(opts scanOptions) (verify.Canaries, error) {
	var accounts []string
	for _, root := range opts.Paths {
		cfg, err := allow.LoadConfig(root, opts.Config)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, cfg.Canary.Accounts...)
	}
	return opts.canaries.With(accounts)
}
