package cloudtrailaws_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/watch"
)

// Lookup is the lookup: source of watch and respond's review, which this
// package does not import.
var (
	_ watch.Lookup   = (*cloudtrailaws.Lookup)(nil)
	_ respond.Lookup = (*cloudtrailaws.Lookup)(nil)
)

// lookupEpoch is when the fixtures' activity starts.
var lookupEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// keyEvents returns n events made with keyID in region, one a minute from
// start, named prefix-region-i.
func keyEvents(prefix, keyID, region string, n int, start time.Time) []awstest.CloudTrailEventFixture {
	var out []awstest.CloudTrailEventFixture
	for i := range n {
		out = append(out, awstest.CloudTrailEventFixture{
			EventID: fmt.Sprintf("%s-%s-%03d", prefix, region, i), EventName: "ListUsers",
			EventSource: "iam.amazonaws.com", Region: region, AccessKeyID: keyID, Username: "alice",
			Time: start.Add(time.Duration(i) * time.Minute), ReadOnly: true,
		})
	}
	return out
}

func ids(fs []awstest.CloudTrailEventFixture) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.EventID)
	}
	slices.Sort(out)
	return out
}

// lookup runs LookupKeyEvents against the fake (the environment must point
// at it) and returns the event ids delivered, sorted, and the warnings.
func lookup(t *testing.T, keyID string, regions []string, since time.Time, opts ...cloudtrailaws.LookupOption) ([]string, cloudtrailaws.LookupStats, []string, error) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var warnings []string
	opts = append(opts, cloudtrailaws.LookupWarn(func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() }))
	var got []string
	stats, err := cloudtrailaws.LookupKeyEvents(ctx, cfg, keyID, regions, since, func(e cloudtrail.Event) error {
		if e.UserIdentity.AccessKeyID != keyID || e.EventTime.IsZero() {
			t.Errorf("event %s decoded with key %q at %v", e.EventID, e.UserIdentity.AccessKeyID, e.EventTime)
		}
		got = append(got, e.EventID) // the sink is never called concurrently
		return nil
	}, opts...)
	slices.Sort(got)
	return got, stats, warnings, err
}

func TestLookupKeyEventsReadsEveryPageOfEveryRegionAndOnlyTheKeys(t *testing.T) {
	key := awstest.FakeKeyID("leaked", 123456789012)
	other := awstest.FakeKeyID("innocent", 123456789012)
	since := lookupEpoch.Add(24 * time.Hour)
	east := keyEvents("k", key, "us-east-1", 120, since)      // 3 pages
	west := keyEvents("k", key, "eu-west-1", 60, since)       // 2 pages
	old := keyEvents("old", key, "us-east-1", 5, lookupEpoch) // before since
	var fixtures []awstest.CloudTrailEventFixture
	for _, set := range [][]awstest.CloudTrailEventFixture{east, west, old,
		keyEvents("other", other, "us-east-1", 30, since), keyEvents("other", other, "eu-west-1", 30, since),
		keyEvents("unasked", key, "ap-south-1", 3, since)} {
		fixtures = append(fixtures, set...)
	}
	srv := awstest.NewCloudTrailServer(t, fixtures)
	srv.SetEnvAlone(t)

	got, stats, warnings, err := lookup(t, key, []string{"us-east-1", "eu-west-1", "us-east-1"}, since)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(append(slices.Clone(east), west...)), got); diff != "" {
		t.Errorf("events delivered (-want +got):\n%s", diff)
	}
	wantStats := cloudtrailaws.LookupStats{Regions: []string{"eu-west-1", "us-east-1"}, Requests: 5, Events: 180, Failed: map[string]error{}}
	if diff := cmp.Diff(wantStats, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	for _, r := range srv.Requests() {
		want := map[string]string{"AccessKeyId": key}
		if !cmp.Equal(r.Attributes, want) || !r.StartTime.Equal(since) || r.MaxResults != 50 || r.Error != "" {
			t.Errorf("request %+v: want attributes %v, StartTime %v, MaxResults 50, no error", r, want, since)
		}
	}
}

func TestLookupKeyEventsPacingAgainstTheQuota(t *testing.T) {
	key := awstest.FakeKeyID("leaked", 123456789012)
	events := keyEvents("k", key, "us-east-1", 140, lookupEpoch) // 3 pages in one region
	tests := []struct {
		name          string
		opts          []cloudtrailaws.LookupOption
		wantThrottled bool
		wantFailed    bool
	}{
		{name: "paced requests are never throttled", wantThrottled: false},
		{name: "unpaced requests are throttled and retried until all arrive",
			opts: []cloudtrailaws.LookupOption{cloudtrailaws.LookupInterval(0)}, wantThrottled: true},
		{name: "unpaced requests without retries lose the region",
			opts: []cloudtrailaws.LookupOption{cloudtrailaws.LookupInterval(0), cloudtrailaws.LookupMaxAttempts(1)}, wantThrottled: true, wantFailed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := awstest.NewCloudTrailServer(t, events)
			srv.SetEnvAlone(t)
			got, stats, _, err := lookup(t, key, []string{"us-east-1"}, lookupEpoch, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if throttled := srv.Throttled(); (throttled > 0) != tc.wantThrottled {
				t.Errorf("fake throttled %d of %d requests, want throttling %v", throttled, len(srv.Requests()), tc.wantThrottled)
			}
			if stats.Requests != len(srv.Requests()) {
				t.Errorf("stats count %d requests, the fake received %d", stats.Requests, len(srv.Requests()))
			}
			if tc.wantFailed {
				var apiErr smithy.APIError
				if err := stats.Failed["us-east-1"]; !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
					t.Errorf("failed regions %v, want us-east-1 throttled", stats.Failed)
				}
				return
			}
			if len(got) != len(events) || len(stats.Failed) > 0 {
				t.Errorf("got %d of %d events, failed regions %v", len(got), len(events), stats.Failed)
			}
		})
	}
}

// respond looks up the leaked key and then each session key it minted:
// the calls share the region's quota, so the second must not burst over it.
func TestLookupKeyEventsOneAfterAnotherStayUnderTheQuota(t *testing.T) {
	leaked := awstest.FakeKeyID("leaked", 123456789012)
	minted := awstest.FakeSessionKeyID("minted", 123456789012)
	srv := awstest.NewCloudTrailServer(t, append(keyEvents("k", leaked, "us-east-1", 60, lookupEpoch),
		keyEvents("s", minted, "us-east-1", 60, lookupEpoch)...))
	srv.SetEnvAlone(t)
	for _, key := range []string{leaked, minted} {
		// Retries stay on: the fake's own count of throttled requests is
		// what proves the pacing, and a retried transport error (a loaded
		// machine) is not what this test is about.
		got, stats, warnings, err := lookup(t, key, []string{"us-east-1"}, lookupEpoch)
		if err != nil || len(got) != 60 {
			t.Fatalf("key %s: %d of 60 events: %v (failed regions %v, warnings %q)", key, len(got), err, stats.Failed, warnings)
		}
	}
	if n := srv.Throttled(); n > 0 {
		t.Errorf("fake throttled %d of %d requests", n, len(srv.Requests()))
	}
}

func TestLookupKeyEventsReportsADeniedRegionAndReadsTheOthers(t *testing.T) {
	key := awstest.FakeKeyID("leaked", 123456789012)
	east := keyEvents("k", key, "us-east-1", 7, lookupEpoch)
	srv := awstest.NewCloudTrailServer(t, append(east, keyEvents("k", key, "eu-west-1", 7, lookupEpoch)...))
	srv.FailRegion("eu-west-1", "AccessDeniedException", "User is not authorized to perform: cloudtrail:LookupEvents")
	srv.SetEnvAlone(t)

	got, stats, warnings, err := lookup(t, key, []string{"us-east-1", "eu-west-1"}, lookupEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(east), got); diff != "" {
		t.Errorf("events delivered (-want +got):\n%s", diff)
	}
	var apiErr smithy.APIError
	if err := stats.Failed["eu-west-1"]; len(stats.Failed) != 1 || !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("failed regions %v, want eu-west-1 denied", stats.Failed)
	}
	if !cmp.Equal(stats.Regions, []string{"us-east-1"}) {
		t.Errorf("regions read %v, want [us-east-1]", stats.Regions)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "eu-west-1") || !strings.Contains(warnings[0], "AccessDenied") {
		t.Errorf("warnings %q, want one naming eu-west-1 and the denial", warnings)
	}
	denied := 0
	for _, r := range srv.Requests() {
		if r.Region == "eu-west-1" {
			denied++
		}
	}
	if denied != 1 {
		t.Errorf("%d requests to the denied region, want 1 (a denial is not retried)", denied)
	}
}

func TestLookupKeyEventsStopsAtTheSinksError(t *testing.T) {
	key := awstest.FakeKeyID("leaked", 123456789012)
	srv := awstest.NewCloudTrailServer(t, keyEvents("k", key, "us-east-1", 80, lookupEpoch))
	srv.SetEnvAlone(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("report full")
	calls := 0
	_, err = cloudtrailaws.LookupKeyEvents(context.Background(), cfg, key, []string{"us-east-1"}, lookupEpoch,
		func(cloudtrail.Event) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d sink calls, want the sink's error after 1", err, calls)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: no page is read after the sink fails", n)
	}
}

// BenchmarkLookupKeyEvents500 measures a review of 500 events over 2
// regions at the paced rate: requests per run and wall time per run.
func BenchmarkLookupKeyEvents500(b *testing.B) {
	key := awstest.FakeKeyID("leaked", 123456789012)
	events := append(keyEvents("k", key, "us-east-1", 250, lookupEpoch), keyEvents("k", key, "eu-west-1", 250, lookupEpoch)...)
	srv := awstest.NewCloudTrailServer(b, events)
	srv.SetEnvAlone(b)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var stats cloudtrailaws.LookupStats
	for b.Loop() {
		stats, err = cloudtrailaws.LookupKeyEvents(context.Background(), cfg, key, []string{"us-east-1", "eu-west-1"}, lookupEpoch,
			func(cloudtrail.Event) error { return nil })
		if err != nil || stats.Events != 500 {
			b.Fatalf("read %d events: %v", stats.Events, err)
		}
	}
	b.ReportMetric(float64(stats.Requests), "requests/op")
	b.ReportMetric(float64(srv.Throttled()), "throttled")
}

// TestLookupWarningNamesTheKeyOnlyWhenThereIsOne: watch's lookup: source
// reads every event of a region, with no key to name.
func TestLookupWarningNamesTheKeyOnlyWhenThereIsOne(t *testing.T) {
	key := awstest.FakeKeyID("leaked", 123456789012)
	srv := awstest.NewCloudTrailServer(t, keyEvents("k", key, "us-east-1", 1, lookupEpoch))
	srv.FailRegion("eu-west-1", "AccessDeniedException", "User is not authorized to perform: cloudtrail:LookupEvents")
	srv.SetEnvAlone(t)
	for keyID, want := range map[string]string{
		key: "cloudtrail lookup of key " + key + " in eu-west-1 failed, its activity there is unknown: ",
		"":  "cloudtrail lookup in eu-west-1 failed, its events there are unknown: ",
	} {
		ctx := context.Background()
		cfg, err := awsx.Load(ctx, awsx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var warnings []string
		_, err = cloudtrailaws.LookupKeyEvents(ctx, cfg, keyID, []string{"eu-west-1"}, lookupEpoch,
			func(cloudtrail.Event) error { return nil }, cloudtrailaws.LookupWarn(func(s string) { warnings = append(warnings, s) }))
		if err != nil || len(warnings) != 1 || !strings.HasPrefix(warnings[0], want) {
			t.Errorf("key %q: err %v, warnings %q, want one starting %q", keyID, err, warnings, want)
		}
	}
}
