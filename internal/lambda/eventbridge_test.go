package lambda_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHandlerProcessesEventBridgeCloudTrailEventsOnce(t *testing.T) {
	f := newFixture(t)
	var records []json.RawMessage
	if err := json.Unmarshal(corpusRecords(t, "aws.defense-evasion.cloudtrail-stop"), &records); err != nil {
		t.Fatal(err)
	}
	event := eventBridgeCloudTrail(t, records[0])
	tests := []struct {
		name    string
		payload string
		want    int // events processed so far
	}{
		{"direct from an eventbridge rule", event, 1},
		{"redelivered", event, 1},
		{"redelivered through sqs", sqsWrapped(event), 1},
	}
	for _, tc := range tests {
		if err := f.handle(t, tc.payload); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(f.proc.events); got != tc.want {
			t.Errorf("%s: %d events processed; want %d", tc.name, got, tc.want)
		}
	}
	type summary struct {
		ID, Name, Source, Region, KeyID string
		Time                            time.Time
	}
	var rec struct {
		UserIdentity struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"userIdentity"`
	}
	if err := json.Unmarshal(records[0], &rec); err != nil || rec.UserIdentity.AccessKeyID == "" {
		t.Fatalf("corpus record without an access key id: %v", err)
	}
	e := f.proc.events[0]
	got := summary{e.EventID, e.EventName, e.EventSource, e.AWSRegion, e.UserIdentity.AccessKeyID, e.EventTime}
	want := summary{"10163ed2-2253-469d-a5ee-cbc6651f8934", "StopLogging", "cloudtrail.amazonaws.com",
		"apiso-centralnorth-2r", rec.UserIdentity.AccessKeyID, time.Date(2024, 7, 31, 13, 6, 24, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event decoded from the envelope (-want +got):\n%s", diff)
	}
}

func TestHandlerProcessesOnlyNewEventsOfABatch(t *testing.T) {
	f := newFixture(t)
	var records []json.RawMessage
	if err := json.Unmarshal(corpusRecords(t, "aws.defense-evasion.organizations-leave"), &records); err != nil {
		t.Fatal(err)
	}
	first := eventBridgeCloudTrail(t, records[0])
	if err := f.handle(t, first); err != nil {
		t.Fatal(err)
	}
	var batch []string
	for _, r := range records {
		batch = append(batch, eventBridgeCloudTrail(t, r))
	}
	batch = append(batch, first) // a duplicate inside one batch too
	if err := f.handle(t, sqsWrapped(batch...)); err != nil {
		t.Fatal(err)
	}
	want := recordIDs(t, corpusRecords(t, "aws.defense-evasion.organizations-leave"))
	got := f.proc.ids()
	if diff := cmp.Diff(slices.Sorted(slices.Values(want)), got); diff != "" {
		t.Errorf("events processed (-want +got):\n%s", diff)
	}
}
