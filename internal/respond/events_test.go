package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/gap"
)

var reviewEpoch = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// trailRecord is a CloudTrail record made with key, minutes after reviewEpoch.
func trailRecord(id, key, name string, minutes int, response string) map[string]any {
	source := "iam.amazonaws.com"
	if name == "GetSessionToken" {
		source = "sts.amazonaws.com"
	}
	r := map[string]any{"eventVersion": "1.08", "eventID": id, "eventSource": source, "eventName": name,
		"eventTime": reviewEpoch.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339), "awsRegion": "us-east-1",
		"userIdentity": map[string]any{"type": "IAMUser", "accountId": "123456789012", "userName": "deploy", "accessKeyId": key}}
	if response != "" {
		r["responseElements"] = json.RawMessage(response)
	}
	return r
}

// minting is the GetSessionToken call of parent that handed out asia.
func minting(id, parent, asia string, minutes int) map[string]any {
	return trailRecord(id, parent, "GetSessionToken", minutes, `{"credentials":{"accessKeyId":"`+asia+`","sessionToken":"x"}}`)
}

// trailDir writes records as one CloudTrail log file in a new directory.
func trailDir(t *testing.T, records ...map[string]any) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	file = filepath.Join(dir, "trail.json")
	data, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// fakeLookup answers LookupEvents from records, by key, and counts calls.
type fakeLookup struct {
	records   []map[string]any
	failed    map[string]error // regions it cannot read
	err       error            // ends the read
	regionErr error            // listing the regions fails
	calls     []string         // "KEY REGIONS"
	listed    int              // Regions calls
}

func (f *fakeLookup) Regions(context.Context) ([]string, error) {
	f.listed++
	if f.regionErr != nil {
		return nil, f.regionErr
	}
	return []string{"eu-west-1", "us-east-1"}, nil
}

func (f *fakeLookup) KeyEvents(_ context.Context, keyID string, regions []string, _ time.Time, _ func(error), sink cloudtrail.Sink) (map[string]error, error) {
	f.calls = append(f.calls, fmt.Sprint(keyID, " ", regions))
	for _, r := range f.records {
		raw, _ := json.Marshal(r)
		e, err := cloudtrail.Decode(raw)
		if err != nil {
			return nil, err
		}
		if e.UserIdentity.AccessKeyID == keyID {
			if err := sink(e); err != nil {
				return nil, err
			}
		}
	}
	return f.failed, f.err
}

func eventIDs(events []cloudtrail.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.EventID)
	}
	slices.Sort(out)
	return out
}

func TestSourcesMergeLogsAndLookupOnce(t *testing.T) {
	key := awstest.FakeKeyID("exposed", 123456789012)
	other := awstest.FakeKeyID("other", 123456789012)
	dir, _ := trailDir(t,
		trailRecord("both", key, "ListUsers", 10, ""), trailRecord("logs-only", key, "CreateUser", 20, ""),
		trailRecord("too-old", key, "ListUsers", -10, ""), trailRecord("another-key", other, "ListUsers", 10, ""))
	lookup := &fakeLookup{records: []map[string]any{trailRecord("both", key, "ListUsers", 10, ""), trailRecord("lookup-only", key, "ListRoles", 30, "")}}
	s := &Sources{Logs: []string{dir}, Lookup: lookup, Regions: []string{"us-east-1"}}
	got, err := s.Events(context.Background(), key, reviewEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"both", "logs-only", "lookup-only"}; !slices.Equal(eventIDs(got.Events), want) {
		t.Errorf("events %v, want %v: each once, the key's only, none before since", eventIDs(got.Events), want)
	}
	if want := []string{dir, "LookupEvents in us-east-1"}; !slices.Equal(got.Sources, want) || len(got.Gaps) != 0 {
		t.Errorf("read %v, gaps %v; want %v read whole", got.Sources, got.Gaps, want)
	}
	if want := []string{key + " [us-east-1]"}; !slices.Equal(lookup.calls, want) {
		t.Errorf("lookups %v, want %v", lookup.calls, want)
	}
}

func TestSourcesReadTheLogsOnceAndFollowMintedKeys(t *testing.T) {
	key := awstest.FakeKeyID("exposed", 123456789012)
	asia := awstest.FakeSessionKeyID("minted", 123456789012)
	dir, file := trailDir(t, minting("mint", key, asia, 5), trailRecord("by-session", asia, "ListBuckets", 6, ""))
	s := &Sources{Logs: []string{dir}}
	ctx := context.Background()
	first, err := s.Events(ctx, key, reviewEpoch)
	if err != nil || !slices.Equal(eventIDs(first.Events), []string{"mint"}) {
		t.Fatalf("the exposed key's events: %v, %v; want its STS call", eventIDs(first.Events), err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	// The minted key's review reads what the first read kept: its own
	// events and the call that minted it.
	second, err := s.Events(ctx, asia, reviewEpoch)
	if err != nil || !slices.Equal(eventIDs(second.Events), []string{"by-session", "mint"}) {
		t.Errorf("the minted key's events: %v, %v; want its own and the call that minted it, without reading again", eventIDs(second.Events), err)
	}
}

// TestSourcesNameWhatTheyCouldNotRead: a log source that fails, a file
// corrupt at a record, a region denied, regions that cannot be listed are
// gaps with their reason, never silence; the rest is still read. Only an
// error that ends the read (a cancelled context) is an error.
func TestSourcesNameWhatTheyCouldNotRead(t *testing.T) {
	key := awstest.FakeKeyID("exposed", 123456789012)
	dir, file := trailDir(t, trailRecord("good", key, "ListUsers", 1, ""))
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte(`{"Records": [{"eventID": "a", "eventName": "ListUsers", "eventSource": "iam.amazonaws.com"}, {"eventID": 5}, {"eventID": 6}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	denied := errors.New("AccessDeniedException: not authorized")
	lookup := &fakeLookup{failed: map[string]error{"eu-west-1": denied}}
	var warned []string
	s := &Sources{Logs: []string{missing, dir}, Lookup: lookup, Warn: func(err error) { warned = append(warned, err.Error()) }}
	got, err := s.Events(context.Background(), key, reviewEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(eventIDs(got.Events), []string{"good"}) {
		t.Errorf("events %v, want what could be read", eventIDs(got.Events))
	}
	if want := []string{dir, "LookupEvents in us-east-1"}; !slices.Equal(got.Sources, want) {
		t.Errorf("read %v, want %v", got.Sources, want)
	}
	want := []gap.Gap{
		{Source: missing, Reason: "read cloudtrail logs: stat " + missing + ": no such file or directory"},
		{Source: corrupt, Reason: "corrupt at record 1: decode record: eventID: want a string, got a number (and 1 more skipped)"},
		{Source: "LookupEvents in eu-west-1", Reason: "AccessDeniedException: not authorized"},
	}
	if !slices.Equal(got.Gaps, want) {
		t.Errorf("gaps\n%v\nwant\n%v", got.Gaps, want)
	}
	if len(warned) < 3 {
		t.Errorf("warnings %q: want each skip said on stderr as it happens", warned)
	}
	_ = file

	lookup = &fakeLookup{regionErr: errors.New("UnauthorizedOperation")}
	got, err = (&Sources{Lookup: lookup}).Events(context.Background(), key, reviewEpoch)
	if err != nil || !slices.Equal(got.Gaps, []gap.Gap{{Source: "LookupEvents", Reason: "list the enabled regions: UnauthorizedOperation"}}) {
		t.Errorf("regions not listed: %v, %v", got.Gaps, err)
	}

	ended := errors.New("context canceled")
	lookup = &fakeLookup{records: []map[string]any{trailRecord("e1", key, "ListUsers", 1, "")}, err: ended}
	got, err = (&Sources{Lookup: lookup}).Events(context.Background(), key, reviewEpoch)
	if !errors.Is(err, ended) || err.Error() != "lookup events: context canceled" || len(got.Events) != 1 {
		t.Errorf("an ended lookup: %v with %d events, want 'lookup events: context canceled' and what was read", err, len(got.Events))
	}
}

func TestSourcesLookUpEveryEnabledRegionByDefault(t *testing.T) {
	key := awstest.FakeKeyID("exposed", 123456789012)
	asia := awstest.FakeSessionKeyID("minted", 123456789012)
	lookup := &fakeLookup{}
	s := &Sources{Lookup: lookup}
	for _, k := range []string{key, asia} {
		if _, err := s.Events(context.Background(), k, reviewEpoch); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{key + " [eu-west-1 us-east-1]", asia + " [eu-west-1 us-east-1]"}
	if !slices.Equal(lookup.calls, want) || lookup.listed != 1 {
		t.Errorf("lookups %v after %d region listings, want %v after one", lookup.calls, lookup.listed, want)
	}
}

func TestSourcesReadTheLogsOnceForEveryKeyOfTheRun(t *testing.T) {
	k1, k2 := awstest.FakeKeyID("one", 123456789012), awstest.FakeKeyID("two", 123456789012)
	dir, _ := trailDir(t, trailRecord("by-one", k1, "ListUsers", 1, ""), trailRecord("by-two", k2, "CreateUser", 2, ""))
	s := &Sources{Logs: []string{dir}, Keys: []string{k1, k2}}
	for key, want := range map[string]string{k1: "by-one", k2: "by-two"} {
		got, err := s.Events(context.Background(), key, reviewEpoch)
		if err != nil || !slices.Equal(eventIDs(got.Events), []string{want}) {
			t.Errorf("events of %s: %v, %v; want %s", key, eventIDs(got.Events), err, want)
		}
	}
}
