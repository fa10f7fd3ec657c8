package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/severity"
)

// scanOptions is everything `keywarden scan` was told, resolved once from flags.
type scanOptions struct {
	paths       []string
	urls        []string
	noGit       bool
	staged      bool
	commitMsg   string
	verify      bool
	verifyConc  int
	verifyRate  float64
	showSecrets bool
	format      string
	output      string
	baseline    string
	config      string
	failOn      severity.Level
	profile     string
	region      string
	quiet       bool
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
--show-secrets. AWS's documentation examples and placeholders are never reported.

Allowlisting: a line containing keywarden:allow is never reported; a .keywarden.toml (or
.keywarden.yaml) in the scanned root may list paths (globs) to skip, fingerprints and key
ids to ignore:

  [allow]
  paths = ["testdata/**"]
  fingerprints = ["3f1c..."]
  key_ids = ["AKIA..."]

--baseline takes an earlier json/jsonl/sarif report and reports only findings new since it.

--verify checks each key pair with STS GetCallerIdentity (the secret goes to STS and nowhere
else) and reports active with the owner's ARN, or invalid. It uses the SDK's endpoint
settings (AWS_ENDPOINT_URL), so it can be pointed at an emulator.

Exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or runtime error.`

const scanExample = `  keywarden scan                         # this directory (and its whole git history)
  keywarden scan ~/src/app deploy.tgz     # a repository and an archive
  cat build.log | keywarden scan -        # stdin
  keywarden scan --staged                 # what is staged (the pre-commit hook runs this)
  keywarden scan --url https://example.com/  # an exposed .git/ and leak files on a web site
  keywarden scan --verify --format json -o report.json
  keywarden scan --baseline report.json   # only what is new since report.json`

func newScanCmd(deps Deps) *cobra.Command {
	opts := scanOptions{}
	var failOn string
	cmd := &cobra.Command{
		Use:     "scan [PATH...]",
		Short:   "Find leaked AWS keys in files, archives, stdin, git history and exposed .git/",
		Long:    scanLong,
		Example: scanExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			lvl, err := severity.Parse(failOn)
			if err != nil {
				return usageErr(fmt.Errorf("--fail-on: %w", err))
			}
			opts.failOn = lvl
			opts.paths = args
			if err := opts.validate(); err != nil {
				return usageErr(err)
			}
			return runScan(cmd.Context(), opts, deps)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.urls, "url", nil, "scan a web site for an exposed .git/ and leak files (repeatable)")
	f.BoolVar(&opts.noGit, "no-git", false, "scan a repository's files only, not its history")
	f.BoolVar(&opts.staged, "staged", false, "scan only what is staged in the repository at PATH (default .)")
	f.StringVar(&opts.commitMsg, "commit-msg", "", "scan a commit message file (for the commit-msg hook)")
	f.BoolVar(&opts.verify, "verify", false, "check found key pairs with STS GetCallerIdentity")
	f.IntVar(&opts.verifyConc, "verify-concurrency", 4, "STS checks in flight at once")
	f.Float64Var(&opts.verifyRate, "verify-rate", 10, "STS checks per second at most")
	f.BoolVar(&opts.showSecrets, "show-secrets", false, "print secrets in clear (they are redacted by default)")
	f.StringVarP(&opts.format, "format", "f", "text", "output format: "+strings.Join(report.Formats, "|"))
	f.StringVarP(&opts.output, "output", "o", "", "write the report to FILE instead of stdout")
	f.StringVar(&opts.baseline, "baseline", "", "report only findings not in this earlier report (json, jsonl or sarif)")
	f.StringVar(&opts.config, "config", "", "allowlist file (default: .keywarden.toml or .keywarden.yaml in the scanned root)")
	f.StringVar(&failOn, "fail-on", "low", "exit 1 when a finding is at or above this severity: low|medium|high|critical")
	f.StringVar(&opts.profile, "profile", "", "AWS profile for --verify (default: the SDK's)")
	f.StringVar(&opts.region, "region", "", "AWS region for --verify (default: the SDK's)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress or summary on stderr")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(report.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"low", "medium", "high", "critical"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// validate rejects combinations that can't mean anything.
func (o *scanOptions) validate() error {
	if !contains(report.Formats, o.format) {
		return fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(report.Formats, ", "))
	}
	modes := 0
	for _, on := range []bool{o.staged, o.commitMsg != ""} {
		if on {
			modes++
		}
	}
	if modes > 1 || (modes == 1 && len(o.urls) > 0) {
		return fmt.Errorf("--staged, --commit-msg and --url can't be combined")
	}
	if o.staged && len(o.paths) > 1 {
		return fmt.Errorf("--staged takes at most one repository path")
	}
	if o.commitMsg != "" && len(o.paths) > 0 {
		return fmt.Errorf("--commit-msg takes no PATH")
	}
	if o.verifyConc < 1 || o.verifyRate <= 0 {
		return fmt.Errorf("--verify-concurrency and --verify-rate must be positive")
	}
	if len(o.paths) == 0 && len(o.urls) == 0 && o.commitMsg == "" {
		o.paths = []string{"."}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
