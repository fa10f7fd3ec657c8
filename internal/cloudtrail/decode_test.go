package cloudtrail_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

func TestDecodeEventTime(t *testing.T) {
	want := time.Date(2026, 11, 21, 13, 45, 24, 0, time.UTC)
	tests := map[string]struct {
		field string // the eventTime member, "" for none
		want  time.Time
	}{
		"rfc3339 utc":                   {`"eventTime":"2026-11-21T13:45:24Z"`, want},
		"rfc3339 with fraction":         {`"eventTime":"2026-11-21T13:45:24.25Z"`, want.Add(250 * time.Millisecond)},
		"rfc3339 with offset is in utc": {`"eventTime":"2026-11-21T15:45:24+02:00"`, want},
		"space separated is utc":        {`"eventTime":"2026-11-21 13:45:24"`, want},
		"space separated with fraction": {`"eventTime":"2026-11-21 13:45:24.000000001"`, want.Add(time.Nanosecond)},
		"missing is zero":               {``, time.Time{}},
		"empty is zero":                 {`"eventTime":""`, time.Time{}},
		"null is zero":                  {`"eventTime":null`, time.Time{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw := `{"eventName":"ListUsers"` + map[bool]string{true: ",", false: ""}[tc.field != ""] + tc.field + `}`
			ev, err := cloudtrail.Decode([]byte(raw))
			if err != nil {
				t.Fatalf("Decode(%s): %v", raw, err)
			}
			if !ev.EventTime.Equal(tc.want) || ev.EventTime.Location() != time.UTC {
				t.Errorf("EventTime = %v, want %v in UTC", ev.EventTime, tc.want)
			}
		})
	}
}

func TestDecodeKeepsFieldsAndRaw(t *testing.T) {
	keyID := awstest.FakeKeyID("decode", 123456789012)
	raw := `{"eventID":"e1","eventTime":"2026-11-21T13:45:24Z","eventSource":"iam.amazonaws.com",
	"eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2",
	"readOnly":false,"recipientAccountId":"123456789012","errorCode":"AccessDenied",
	"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accessKeyId":"` + keyID + `","userName":"alice"},
	"requestParameters":{"userName":"mallory"},"eventVersion":"1.08"}`
	buf := []byte(raw)
	ev, err := cloudtrail.Decode(buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, strings.Repeat("x", len(buf))) // Raw must not alias the caller's buffer
	if string(ev.Raw) != raw {
		t.Errorf("Raw changed with the caller's buffer or was not kept:\n%s", ev.Raw)
	}
	got := map[string]string{
		"id": ev.EventID, "name": ev.EventName, "source": ev.EventSource, "region": ev.AWSRegion,
		"ip": ev.SourceIPAddress, "agent": ev.UserAgent, "error": ev.ErrorCode, "account": ev.RecipientAccountID,
		"type": ev.UserIdentity.Type, "key": ev.UserIdentity.AccessKeyID, "user": ev.UserIdentity.UserName,
		"params": string(ev.RequestParameters),
	}
	want := map[string]string{
		"id": "e1", "name": "CreateUser", "source": "iam.amazonaws.com", "region": "us-east-1",
		"ip": "198.51.100.7", "agent": "aws-cli/2", "error": "AccessDenied", "account": "123456789012",
		"type": "IAMUser", "key": keyID, "user": "alice", "params": `{"userName":"mallory"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded fields (-want +got):\n%s", diff)
	}
	if ev.ReadOnly == nil || *ev.ReadOnly {
		t.Errorf("ReadOnly = %v, want false", ev.ReadOnly)
	}
}

func TestDecodeUnwrapsEventBridge(t *testing.T) {
	raw := `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam",
	"detail":{"eventID":"e2","eventName":"CreateAccessKey","eventTime":"2026-11-21T13:45:24Z"}}`
	ev, err := cloudtrail.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != "e2" || ev.EventName != "CreateAccessKey" || ev.EventTime.IsZero() {
		t.Errorf("got %+v, want the detail record", ev)
	}
	if !strings.HasPrefix(string(ev.Raw), `{"eventID":"e2"`) {
		t.Errorf("Raw = %s, want the record without its envelope", ev.Raw)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := map[string]struct {
		raw  string
		want string // in the error
	}{
		"bad eventTime":           {`{"eventTime":"yesterday"}`, `parse eventTime "yesterday"`},
		"eventTime of wrong type": {`{"eventTime":12}`, "decode record"},
		"not json":                {`{"eventTime":`, "decode record"},
		"not an object":           {`[1,2]`, "decode record"},
		"userIdentity not object": {`{"userIdentity":"root"}`, "decode record"},
		"health event":            {`{"detail-type":"AWS Health Event","detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED"}}`, "not a cloudtrail record"},
		"envelope without detail": {`{"detail-type":"AWS API Call via CloudTrail"}`, "not a cloudtrail record"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := cloudtrail.Decode([]byte(tc.raw))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode(%s) = %v, want an error containing %q", tc.raw, err, tc.want)
			}
		})
	}
	if _, err := cloudtrail.Decode([]byte(`{"detail-type":"AWS Health Event","detail":{}}`)); !errors.Is(err, cloudtrail.ErrNotCloudTrail) {
		t.Errorf("health event: %v, want ErrNotCloudTrail", err)
	}
}

func TestDecodeToleratesMissingUserIdentity(t *testing.T) {
	ev, err := cloudtrail.Decode([]byte(`{"eventName":"ConsoleLogin","userIdentity":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cloudtrail.UserIdentity{}, ev.UserIdentity); diff != "" {
		t.Errorf("UserIdentity (-want +got):\n%s", diff)
	}
}

// TestDecodePantherCorpus decodes the "event" of every labeled Panther
// fixture: their eventTime comes in both RFC 3339 and "2006-01-02 15:04:05"
// (with and without nanoseconds), and some lack eventTime or userIdentity.
func TestDecodePantherCorpus(t *testing.T) {
	f, err := os.Open(awstest.CorpusPath(t, "cloudtrail/panther-labeled.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	lines, timed, spaceForm := 0, 0, 0
	for sc.Scan() {
		lines++
		var fixture struct {
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &fixture); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		ev, err := cloudtrail.Decode(fixture.Event)
		if err != nil {
			t.Errorf("line %d: %v", lines, err)
			continue
		}
		var fields struct {
			EventTime string `json:"eventTime"`
		}
		json.Unmarshal(fixture.Event, &fields)
		if fields.EventTime == "" {
			continue
		}
		timed++
		if strings.Contains(fields.EventTime, " ") {
			spaceForm++
		}
		// The decoded time printed back must match the text up to its precision.
		if got := ev.EventTime.Format("2006-01-02 15:04:05"); !strings.HasPrefix(strings.Replace(fields.EventTime, "T", " ", 1), got) {
			t.Errorf("line %d: eventTime %q decoded as %v", lines, fields.EventTime, ev.EventTime)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != 97 || timed != 92 || spaceForm != 40 {
		t.Errorf("lines, timed, space-form = %d, %d, %d; want 97, 92, 40", lines, timed, spaceForm)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"eventTime":"2026-11-21T13:45:24Z","eventName":"CreateUser","userIdentity":{"type":"IAMUser"}}`))
	f.Add([]byte(`{"eventTime":"2026-11-21 13:45:24.5"}`))
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"x"}}`))
	f.Add([]byte(`{"requestParameters":{"detail-type":1}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := cloudtrail.Decode(raw)
		if err != nil {
			return
		}
		if !json.Valid(ev.Raw) {
			t.Errorf("Decode(%q) kept invalid Raw %q", raw, ev.Raw)
		}
		if !ev.EventTime.IsZero() && ev.EventTime.Location() != time.UTC {
			t.Errorf("EventTime %v not in UTC", ev.EventTime)
		}
	})
}

// TestDecodeKeysMatchExactly: a case-folding decoder (encoding/json, and
// goccy/go-json before) let a later "EventName" overwrite "eventName", so
// a CreateUser could pass as ListUsers.
func TestDecodeKeysMatchExactly(t *testing.T) {
	ev, err := cloudtrail.Decode([]byte(`{"eventName":"CreateUser","EventName":"ListUsers",` +
		`"userIdentity":{"type":"IAMUser","Type":"AWSService"},"USERIDENTITY":{"type":"Root"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventName != "CreateUser" || ev.UserIdentity.Type != "IAMUser" {
		t.Errorf("eventName %q, userIdentity.type %q; want CreateUser and IAMUser", ev.EventName, ev.UserIdentity.Type)
	}
}
