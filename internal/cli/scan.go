package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/scan/collect"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/verify"
)

// scanOptions is everything `keywarden scan` was told, resolved once from flags.
type scanOptions struct {
	collect.Options // the inputs and filters
	verify          bool
	verifyConc      int
	verifyRate      float64
	canaryAccounts  []string        // --canary-account
	canaries        verify.Canaries // the known canary accounts and the user's: --verify never sends their keys
	showSecrets     bool
	format          *formatFlag
	output          string
	failOn          *severityFlag
	profile         string
	region          string
	statePath       string // the canaries registered there are reported as such
	quiet           bool
}

const scanLong = `Scan files, directories, archives, stdin, the whole git history, staged changes or a web
site's exposed .git/ for AWS access keys.

PATH may be a file, a directory, an archive (zip, tar, tar.gz, gz; nested) or - for stdin;
the default is the current directory. When PATH is a git repository, keywarden scans every
object in it — all branches, tags, stashes, files deleted later, unreachable and dangling
objects — plus the files of the work tree; --no-git scans the files only.

Findings: aws-access-key-pair (a key id with its secret), aws-session-credentials (ASIA id,
secret and token), aws-secret-key (a secret whose name marks it as AWS's), aws-access-key-id
(an id alone: it reveals the account), and with --url exposed-git-directory and
exposed-sensitive-file. Secrets are redacted (first 4 characters and a SHA-256) unless
--show-secrets. AWS's documentation examples and placeholders are never reported, nor ids
that break AWS's structure: a key id is a credential prefix (AKIA, ASIA, ABIA, ACCA) and 16
characters of base32 (A-Z, 2-7) encoding an account of 12 digits; unique ids (AIDA, AROA...)
are not keys.

Allowlisting: a line containing keywarden:allow is never reported; a .keywarden.toml (or
.keywarden.yaml) in the scanned root may list paths (globs) to skip, fingerprints and key
ids to ignore:

  [allow]
  paths = ["testdata/**"]
  fingerprints = ["3f1c..."]
  key_ids = ["AKIA..."]

--baseline takes an earlier json/jsonl/sarif report and reports only findings new since it.

--verify checks each key pair with STS GetCallerIdentity (the secret goes to STS and nowhere
else) and reports active with the owner's ARN, or invalid; a key it cannot tell about is
unknown, and one warning says why (STS's error, for how many keys). It uses the SDK's
endpoint settings (AWS_ENDPOINT_URL), so it can be pointed at an emulator. A key whose id
decodes (offline) to a public canary-token account (canarytokens.org and its look-alikes)
is reported canary and never sent: using it would set off its owner's alarm.
--canary-account, and [canary] accounts = ["123456789012"] in .keywarden.toml, add your own
canary accounts. Without --verify no key is ever sent.

A key registered as one of your canaries (keywarden canary, in the state database of --state,
read only when it exists) is reported as aws-canary-key at severity info, "canary NAME,
planted WHERE", never as a leak, and never sent to STS.

What could not be read — a file or directory that cannot be opened, a truncated or corrupt
archive or compressed stream (the member and the byte where it ends are named), a missing
git object, a shallow clone's absent history — is a warning on stderr, and the scan is
incomplete: the text report lists it, SARIF names it (invocations, executionSuccessful
false); json, jsonl and csv hold findings only. When nothing at all could be read it is an
error. On a terminal a progress line shows the phase (the files of an input, a repository's
packs and objects, the history pass); one summary line ends the run on stderr (findings,
objects read, what could not be read); -q leaves both out.

Limits against hostile input, each a warning naming what it stopped (docs/scan.md, "Limits"):
archives nest 3 deep; one archive expands to 1 GiB in all, a member to 256 MiB, 100,000
members, a compression ratio of 200 past its first MiB; --url makes 5,000 requests, 256 MiB
in all, 32 MiB an object, 20 s a request, 5 redirects, 2 minutes. A --baseline past 512 MiB
or a --config past 1 MiB is refused (exit 2).

Exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or runtime error (or
nothing could be read), 3 incomplete (no finding at or above --fail-on, but some input could
not be read).`

const scanExample = `  keywarden scan                         # this directory (and its whole git history)
  keywarden scan ~/src/app deploy.tgz     # a repository and an archive
  cat build.log | keywarden scan -        # stdin
  keywarden scan --staged                 # what is staged (the pre-commit hook runs this)
  keywarden scan --url https://example.com/  # an exposed .git/ and leak files on a web site
  keywarden scan --verify --format json -o report.json
  keywarden scan --baseline report.json   # only what is new since report.json`

func newScanCmd(deps Deps) *cobra.Command {
	opts := scanOptions{}
	cmd := &cobra.Command{
		Use:     "scan [PATH...]",
		Short:   "Find leaked AWS keys in files, archives, stdin, git history and exposed .git/",
		Long:    scanLong,
		Example: scanExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if err := opts.validate(); err != nil {
				return usageErr(err)
			}
			return runScan(cmd.Context(), opts, deps)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.URLs, "url", nil, "scan a web site for an exposed .git/ and leak files (repeatable)")
	f.BoolVar(&opts.NoGit, "no-git", false, "scan a repository's files only, not its history")
	f.BoolVar(&opts.Staged, "staged", false, "scan only what is staged in the repository at PATH (default .)")
	f.StringVar(&opts.CommitMsg, "commit-msg", "", "scan a commit message file (for the commit-msg hook)")
	f.BoolVar(&opts.verify, "verify", false, "check found key pairs with STS GetCallerIdentity")
	f.IntVar(&opts.verifyConc, "verify-concurrency", 4, "STS checks in flight at once")
	f.Float64Var(&opts.verifyRate, "verify-rate", 10, "STS checks per second at most")
	f.StringArrayVar(&opts.canaryAccounts, "canary-account", nil, "with --verify, never send keys of this AWS account: report them canary (repeatable)")
	f.BoolVar(&opts.showSecrets, "show-secrets", false, "print secrets in clear (they are redacted by default)")
	opts.format = addFormat(cmd, f, "", report.Formats...)
	f.StringVarP(&opts.output, "output", "o", "", "write the report to FILE instead of stdout")
	f.StringVar(&opts.Baseline, "baseline", "", "report only findings not in this earlier report (json, jsonl or sarif)")
	f.StringVar(&opts.Config, "config", "", "allowlist file (default: .keywarden.toml or .keywarden.yaml in the scanned root)")
	opts.failOn = addFailOn(cmd, f, severity.Low, "a finding")
	addProfile(f, &opts.profile, "AWS profile for --verify (default: the SDK's)")
	addRegion(f, &opts.region, "AWS region for --verify (default: the SDK's)")
	addState(f, &opts.statePath, ": its canaries are reported as such (read only if it exists)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress or summary on stderr")
	return cmd
}

// validate rejects combinations that can't mean anything.
func (o *scanOptions) validate() error {
	switch {
	case o.Staged && o.CommitMsg != "", (o.Staged || o.CommitMsg != "") && len(o.URLs) > 0:
		return fmt.Errorf("--staged, --commit-msg and --url can't be combined")
	case o.Staged && len(o.Paths) > 1:
		return fmt.Errorf("--staged takes at most one repository path")
	case o.CommitMsg != "" && len(o.Paths) > 0:
		return fmt.Errorf("--commit-msg takes no PATH")
	case o.verifyConc < 1 || o.verifyRate <= 0:
		return fmt.Errorf("--verify-concurrency and --verify-rate must be positive")
	}
	canaries, err := verify.KnownCanaries().With(o.canaryAccounts)
	if err != nil {
		return fmt.Errorf("--canary-account %w", err)
	}
	o.canaries = canaries
	if len(o.Paths) == 0 && len(o.URLs) == 0 && o.CommitMsg == "" {
		o.Paths = []string{"."}
	}
	return nil
}
