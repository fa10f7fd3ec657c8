package awstest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// stratusFixtures are the records of the corpus's Stratus Red Team
// detonations, all moved to region (their own regions are anonymised).
func stratusFixtures(t *testing.T, region string) []CloudTrailEventFixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(CorpusPath(t, "cloudtrail/stratus-detonation-logs"), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stratus logs: %v", err)
	}
	var out []CloudTrailEventFixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var records []json.RawMessage
		if err := json.Unmarshal(data, &records); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range records {
			out = append(out, CloudTrailEventFixture{Record: r, Region: region})
		}
	}
	return out
}

// ctClient is the real SDK's CloudTrail client in region, pointed at srv.
func ctClient(t *testing.T, srv *CloudTrailServer, region string) *cloudtrail.Client {
	t.Helper()
	srv.SetEnvAlone(t)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region))
	if err != nil {
		t.Fatal(err)
	}
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.RetryMaxAttempts = 1 })
}

func TestCloudTrailServerLooksUpCorpusRecordsByEventName(t *testing.T) {
	fixtures := stratusFixtures(t, "us-east-1")
	srv := NewCloudTrailServer(t, fixtures)
	client := ctClient(t, srv, "us-east-1")
	out, err := client.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("StopLogging")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) == 0 {
		t.Fatal("no StopLogging event found in the stratus corpus")
	}
	for _, e := range out.Events {
		var rec struct {
			EventName, AwsRegion, EventID string
			UserIdentity                  struct {
				AccessKeyID string `json:"accessKeyId"`
			}
		}
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
			t.Fatalf("CloudTrailEvent is not a record: %v", err)
		}
		got := []string{aws.ToString(e.EventName), aws.ToString(e.EventId), aws.ToString(e.AccessKeyId), aws.ToString(e.ReadOnly)}
		want := []string{"StopLogging", rec.EventID, rec.UserIdentity.AccessKeyID, "false"}
		if !cmp.Equal(got, want) || rec.EventName != "StopLogging" || rec.AwsRegion != "us-east-1" || e.EventTime == nil {
			t.Errorf("answer %v with record %+v: want %v, region us-east-1 written into the record, a time", got, rec, want)
		}
	}
}

func TestCloudTrailServerAnswersNewestFirstWithinTheTimeRange(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var fixtures []CloudTrailEventFixture
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		fixtures = append(fixtures, CloudTrailEventFixture{EventID: name, EventName: "GetCallerIdentity",
			EventSource: "sts.amazonaws.com", Region: "us-east-1", Time: base.Add(time.Duration(i) * time.Hour)})
	}
	fixtures = append(fixtures, CloudTrailEventFixture{EventID: "elsewhere", Region: "eu-west-1", Time: base.Add(2 * time.Hour)})
	srv := NewCloudTrailServer(t, fixtures)
	srv.SetRateLimit(0) // three pages back to back
	client := ctClient(t, srv, "us-east-1")
	pages := cloudtrail.NewLookupEventsPaginator(client, &cloudtrail.LookupEventsInput{
		StartTime: aws.Time(base.Add(time.Hour)), EndTime: aws.Time(base.Add(3 * time.Hour)), MaxResults: aws.Int32(2)})
	var got []string
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			got = append(got, aws.ToString(e.EventId))
		}
	}
	if diff := cmp.Diff([]string{"d", "c", "b"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestCloudTrailServerRejectsInvalidInputAsAWSDoes(t *testing.T) {
	tests := []struct {
		name string
		in   cloudtrail.LookupEventsInput
		want string
	}{
		{"two lookup attributes", cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: "EventName", AttributeValue: aws.String("a")}, {AttributeKey: "Username", AttributeValue: aws.String("b")}}},
			"InvalidLookupAttributesException"},
		{"page larger than 50", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"start after end", cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Unix(200, 0)), EndTime: aws.Time(time.Unix(100, 0))},
			"InvalidTimeRangeException"},
		{"forged next token", cloudtrail.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
	}
	srv := NewCloudTrailServer(t, nil)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One region per case, so the quota never interferes.
			client := ctClient(t, srv, []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2"}[i])
			_, err := client.LookupEvents(context.Background(), &tc.in)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.want {
				t.Errorf("error %v, want %s", err, tc.want)
			}
		})
	}
}

func TestCloudTrailServerThrottlesBeyondTheQuotaPerRegion(t *testing.T) {
	srv := NewCloudTrailServer(t, nil)
	var codes []string
	for _, region := range []string{"us-east-1", "us-east-1", "eu-west-1", "us-east-1", "eu-west-1"} {
		_, err := ctClient(t, srv, region).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			codes = append(codes, apiErr.ErrorCode())
		} else {
			codes = append(codes, "")
		}
	}
	// Back to back, well within one second: the third in us-east-1 is one too many.
	if diff := cmp.Diff([]string{"", "", "", "ThrottlingException", ""}, codes); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

func TestSigningRegionReadsTheCredentialScope(t *testing.T) {
	tests := map[string]string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-3/cloudtrail/aws4_request, SignedHeaders=host, Signature=x": "eu-west-3",
		"": "",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101, Signature=x": "",
		"Bearer token": "",
	}
	for in, want := range tests {
		if got := signingRegion(in); got != want {
			t.Errorf("signingRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
