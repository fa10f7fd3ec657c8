package report

import (
	"slices"
	"testing"

	"github.com/keywarden/keywarden/internal/gap"
)

// The same reason in several regions is one line naming them; other gaps,
// paths with spaces among them, keep a line each, in first-seen order.
func TestGapLinesGatherOneReasonAcrossRegions(t *testing.T) {
	why := "access-analyzer:ListAnalyzers failed: whether IAM Access Analyzer is on unknown"
	got := gapLines([]gap.Gap{
		{Source: "region eu-west-1", Reason: why},
		{Source: "logs/my a.json", Reason: "truncated"},
		{Source: "region us-east-1", Reason: why},
		{Source: "logs/my b.json", Reason: "truncated"},
		{Source: "region us-east-1", Reason: "ec2:DescribeInstances denied"},
		{Source: "", Reason: "credential report too old"},
	})
	want := []string{
		"2 regions (eu-west-1, us-east-1): " + why,
		"logs/my a.json: truncated",
		"logs/my b.json: truncated",
		"region us-east-1: ec2:DescribeInstances denied",
		"credential report too old",
	}
	if !slices.Equal(got, want) {
		t.Errorf("gapLines =\n%q\nwant\n%q", got, want)
	}
}
