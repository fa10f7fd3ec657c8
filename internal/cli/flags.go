package cli

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/span"
)

// The flags several verbs share are declared here, once: one spelling, one
// help wording, one validation message. Each checks its value while flags
// are parsed, so a bad one stops the command before any file is read or
// any AWS call is made (see flagError for how the message reads).

// formatFlag is --format: one of the names the verb can write.
type formatFlag struct {
	value string
	names []string
}

func (f *formatFlag) String() string { return f.value }
func (f *formatFlag) Type() string   { return "format" }

func (f *formatFlag) Set(s string) error {
	if !slices.Contains(f.names, s) {
		return fmt.Errorf("want one of %s", strings.Join(f.names, ", "))
	}
	f.value = s
	return nil
}

// addFormat declares --format/-f over names; the first is the default.
// what says what the format is of, when not the verb's report.
func addFormat(cmd *cobra.Command, fs *pflag.FlagSet, what string, names ...string) *formatFlag {
	f := &formatFlag{value: names[0], names: names}
	if what == "" {
		what = "output format"
	}
	fs.VarP(f, "format", "f", what+": "+strings.Join(names, "|"))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return f
}

// severities are --fail-on's values, in order.
var severities = []string{"low", "medium", "high", "critical"}

// severityFlag is --fail-on.
type severityFlag struct{ level severity.Level }

func (s *severityFlag) String() string { return s.level.String() }
func (s *severityFlag) Type() string   { return "severity" }

func (s *severityFlag) Set(v string) error {
	lvl, err := severity.Parse(v)
	if err != nil {
		return fmt.Errorf("want one of info, %s", strings.Join(severities, ", "))
	}
	s.level = lvl
	return nil
}

// addFailOn declares --fail-on with its default; what names what it judges,
// with its article ("a finding", "an alert").
func addFailOn(cmd *cobra.Command, fs *pflag.FlagSet, def severity.Level, what string) *severityFlag {
	s := &severityFlag{level: def}
	fs.Var(s, "fail-on", "exit 1 when "+what+" is at or above this severity: "+strings.Join(severities, "|"))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(severities, cobra.ShellCompDirectiveNoFileComp))
	return s
}

// spanFlag is a length of time in whole hours, days or weeks (internal/span):
// --since, --max-key-age, --grace, --if-older-than. Zero is refused unless
// the flag gives it a meaning (--grace 0: delete at once).
type spanFlag struct {
	d      time.Duration
	text   string
	zeroOK bool
}

func (s *spanFlag) String() string { return s.text }
func (s *spanFlag) Type() string   { return "span" }

func (s *spanFlag) Set(v string) error {
	d, err := span.Parse(v)
	if err == nil && d == 0 && !s.zeroOK {
		err = errors.New("want a positive whole number with a unit h, d or w (e.g. 90d)")
	}
	if err != nil {
		return err
	}
	s.d, s.text = d, v
	return nil
}

// addSpan declares a span flag; def is "" for none (the zero duration).
func addSpan(fs *pflag.FlagSet, name, def string, zeroOK bool, help string) *spanFlag {
	s := &spanFlag{zeroOK: zeroOK}
	if def != "" {
		if err := s.Set(def); err != nil {
			panic(fmt.Sprintf("--%s default %q: %v", name, def, err)) // a programming error
		}
	}
	fs.Var(s, name, help+" (h, d or w)")
	return s
}

// regionName is the shape of every AWS region name (us-east-1,
// us-gov-west-1, cn-north-1, ap-southeast-4, eu-central-2).
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

func checkRegion(r string) error {
	if !regionName.MatchString(r) {
		return fmt.Errorf("%q is not a region name (such as us-east-1)", r)
	}
	return nil
}

// regionFlag is --region.
type regionFlag struct{ p *string }

func (r regionFlag) String() string { return *r.p }
func (r regionFlag) Type() string   { return "region" }

func (r regionFlag) Set(v string) error {
	if !regionName.MatchString(v) {
		return errors.New("want a region name such as us-east-1")
	}
	*r.p = v
	return nil
}

// addRegion declares --region, the region of the verb's AWS calls.
func addRegion(fs *pflag.FlagSet, p *string, help string) {
	fs.Var(regionFlag{p}, "region", help)
}

// regionsFlag is --regions: a comma-separated (or repeated) list of regions.
type regionsFlag struct{ p *[]string }

func (r regionsFlag) String() string { return strings.Join(*r.p, ",") }
func (r regionsFlag) Type() string   { return "regions" }

func (r regionsFlag) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if err := checkRegion(name); err != nil {
			return err
		}
		if !slices.Contains(*r.p, name) {
			*r.p = append(*r.p, name)
		}
	}
	return nil
}

// addRegions declares --regions; help says which reads they narrow.
func addRegions(fs *pflag.FlagSet, p *[]string, help string) {
	fs.Var(regionsFlag{p}, "regions", help+" (default: every region enabled for the account)")
}

// checkPartition refuses --regions outside the partition of the region the
// calls are signed for (--region, else AWS_REGION, else the profile's), as
// far as that is known offline: one partition's credentials cannot sign for
// another (aws, aws-cn, aws-us-gov). Without a configured region, the
// regions must share one partition.
func checkPartition(cmd *cobra.Command, getenv func(string) string) error {
	f := cmd.Flags().Lookup("regions")
	if f == nil || !f.Changed {
		return nil
	}
	list, ok := f.Value.(regionsFlag)
	if !ok {
		return nil
	}
	home, from := configuredRegion(cmd, getenv)
	for _, r := range *list.p {
		if home == "" {
			home, from = r, "the first of them"
		}
		if awsx.Partition(r) != awsx.Partition(home) {
			return usageErr(fmt.Errorf("--regions %q: want regions of partition %s, the one of %s (%s): %s is in %s",
				f.Value.String(), awsx.Partition(home), home, from, r, awsx.Partition(r)))
		}
	}
	return nil
}

// configuredRegion is the region cmd's calls are signed for, and where it
// was set, as the SDK would resolve it but without loading anything:
// --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region; "" when
// none says.
func configuredRegion(cmd *cobra.Command, getenv func(string) string) (region, from string) {
	if f := cmd.Flags().Lookup("region"); f != nil && f.Changed {
		return f.Value.String(), "--region"
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := getenv(name); r != "" {
			return r, name
		}
	}
	profile := cmp.Or(getenv("AWS_PROFILE"), "default")
	if f := cmd.Flags().Lookup("profile"); f != nil && f.Changed && f.Value.Type() == "string" {
		profile = f.Value.String()
	}
	creds, config, err := awsfile.LoadShared()
	if err != nil {
		return "", ""
	}
	p, _ := awsfile.Resolve(creds, config, profile) // carries the region whatever holds the key
	if p.Region == "" {
		return "", ""
	}
	return p.Region, "profile " + profile
}

// mfaCodeFlag is --mfa-token: the six digits an MFA device shows.
type mfaCodeFlag struct{ p *string }

func (m mfaCodeFlag) String() string { return *m.p }
func (m mfaCodeFlag) Type() string   { return "code" }

func (m mfaCodeFlag) Set(v string) error {
	if len(v) != 6 || strings.Trim(v, "0123456789") != "" {
		return errors.New("want the 6-digit code the MFA device shows")
	}
	*m.p = v
	return nil
}

// addMFAToken declares --mfa-token, the MFA code for a profile with
// mfa_serial, asked on the terminal when not given.
func addMFAToken(fs *pflag.FlagSet, p *string) {
	fs.Var(mfaCodeFlag{p}, "mfa-token", "the MFA code, for a profile with mfa_serial (default: ask on the terminal)")
}

// addProfile declares --profile, the AWS profile whose credentials make the
// verb's calls; help says what they are for when that needs saying.
func addProfile(fs *pflag.FlagSet, p *string, help string) {
	if help == "" {
		help = "AWS profile (default: the SDK's: AWS_PROFILE, else default)"
	}
	fs.StringVar(p, "profile", "", help)
}

// addState declares --state, keywarden's state database.
func addState(fs *pflag.FlagSet, p *string, holds string) {
	fs.StringVar(p, "state", "", "keywarden's state database"+holds+" (default $KEYWARDEN_STATE, else $XDG_STATE_HOME/keywarden/state.db)")
}

// flagError says a bad flag in the project's one wording, `--name "value":
// what is wanted`, as verbs' own checks do; other flag errors (unknown
// flag, missing value) keep cobra's.
func flagError(_ *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		err = fmt.Errorf("--%s %q: %w", bad.GetFlag().Name, bad.GetValue(), bad.Unwrap())
	}
	return usageErr(err)
}
