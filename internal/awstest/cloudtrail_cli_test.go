package awstest

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The AWS CLI (botocore) is a second real client: it names the operation
// differently (the long X-Amz-Target) and pages on its own.
func TestCloudTrailServerAnswersTheAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	key := FakeKeyID("cli", 123456789012)
	var fixtures []CloudTrailEventFixture
	for i, id := range []string{"one", "two", "three"} {
		fixtures = append(fixtures, CloudTrailEventFixture{EventID: id, EventName: "CreateUser", EventSource: "iam.amazonaws.com",
			Region: "eu-west-1", AccessKeyID: key, Time: base.Add(time.Duration(i) * time.Minute)})
	}
	srv := NewCloudTrailServer(t, fixtures)
	srv.SetRateLimit(0)
	srv.SetEnvAlone(t)
	cmd := exec.Command("aws", "cloudtrail", "lookup-events", "--region", "eu-west-1", "--page-size", "2",
		"--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+key, "--output", "json")
	cmd.Env = append(os.Environ(), "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws cloudtrail lookup-events: %v\n%s", err, out)
	}
	var answer struct{ Events []struct{ EventId string } }
	if err := json.Unmarshal(out, &answer); err != nil {
		t.Fatalf("decode CLI output: %v\n%s", err, out)
	}
	var got []string
	for _, e := range answer.Events {
		got = append(got, e.EventId)
	}
	if diff := cmp.Diff([]string{"three", "two", "one"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Target != ctTargetLong+ctTargetPrefix+"LookupEvents" {
		t.Errorf("requests %+v, want 2 pages with botocore's long target", reqs)
	}
}
