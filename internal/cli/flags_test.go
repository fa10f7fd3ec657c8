package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/severity"
)

// parse builds a command with every shared flag and parses args; it
// returns the command's error line as Main prints it.
func parseShared(t *testing.T, args ...string) (*formatFlag, *severityFlag, *spanFlag, *spanFlag, string, []string, string) {
	t.Helper()
	var region string
	var regions []string
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetOut(&bytes.Buffer{})
	f := addFormat(cmd, cmd.Flags(), "", "text", "json")
	s := addFailOn(cmd, cmd.Flags(), severity.Low, "a finding")
	since := addSpan(cmd.Flags(), "since", "30d", false, "look back")
	grace := addSpan(cmd.Flags(), "grace", "7d", true, "wait")
	addRegion(cmd.Flags(), &region, "region")
	addRegions(cmd.Flags(), &regions, "regions")
	cmd.SetArgs(args)
	msg := ""
	if err := cmd.Execute(); err != nil {
		msg = err.Error()
	}
	return f, s, since, grace, region, regions, msg
}

func TestSharedFlagsParse(t *testing.T) {
	f, s, since, grace, region, regions, msg := parseShared(t)
	if msg != "" || f.value != "text" || s.level != severity.Low || since.d.Hours() != 30*24 || grace.d.Hours() != 7*24 || region != "" || regions != nil {
		t.Fatalf("defaults: %q %v %v %v %v %q %v", msg, f.value, s.level, since.d, grace.d, region, regions)
	}
	f, s, since, grace, region, regions, msg = parseShared(t, "-f", "json", "--fail-on", "HIGH", "--since", "12h",
		"--grace", "0", "--region", "us-gov-west-1", "--regions", "eu-west-1,us-east-1", "--regions", "eu-west-1")
	if msg != "" || f.value != "json" || s.level != severity.High || since.d.Hours() != 12 || grace.d != 0 ||
		region != "us-gov-west-1" || strings.Join(regions, ",") != "eu-west-1,us-east-1" {
		t.Fatalf("set: %q %v %v %v %v %q %v", msg, f.value, s.level, since.d, grace.d, region, regions)
	}
}

func TestSharedFlagsRefuseInOneWording(t *testing.T) {
	for args, want := range map[string]string{
		"--format yaml":     `--format "yaml": want one of text, json`,
		"--fail-on severe":  `--fail-on "severe": want one of info, low, medium, high, critical`,
		"--since 0":         `--since "0": want a positive whole number with a unit h, d or w (e.g. 90d)`,
		"--since ninety":    `--since "ninety": want a whole number with a unit h, d or w (e.g. 90d)`,
		"--grace -1d":       `--grace "-1d": want a whole number with a unit h, d or w (e.g. 90d)`,
		"--region useast1":  `--region "useast1": want a region name such as us-east-1`,
		"--regions us-e,x1": `--regions "us-e,x1": "us-e" is not a region name (such as us-east-1)`,
	} {
		_, _, _, _, _, _, msg := parseShared(t, strings.Fields(args)...)
		if msg != want {
			t.Errorf("%s: error %q, want %q", args, msg, want)
		}
	}
}
