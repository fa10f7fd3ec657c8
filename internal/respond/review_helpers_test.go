package respond

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// decodeEvent reads one CloudTrail record the way cloudtrail.Decode will,
// with encoding/json plus the eventTime parse, so these tests do not wait
// on the decoder being written beside them.
func decodeEvent(t testing.TB, raw []byte) cloudtrail.Event {
	t.Helper()
	var e cloudtrail.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("decode event: %v\n%s", err, raw)
	}
	var tm struct {
		EventTime string `json:"eventTime"`
	}
	_ = json.Unmarshal(raw, &tm)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if v, err := time.Parse(l, tm.EventTime); err == nil {
			e.EventTime = v.UTC()
			break
		}
	}
	e.Raw = raw
	return e
}

// stratus loads one Stratus Red Team detonation log (a JSON array).
func stratus(t testing.TB, technique string) []cloudtrail.Event {
	t.Helper()
	p := awstest.CorpusPath(t, filepath.Join("cloudtrail", "stratus-detonation-logs", technique+".json"))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		t.Fatalf("parse %s: %v", p, err)
	}
	out := make([]cloudtrail.Event, 0, len(raws))
	for _, r := range raws {
		out = append(out, decodeEvent(t, r))
	}
	return out
}

// invictus loads every record of the invictus-ir attack simulation.
func invictus(t testing.TB) []cloudtrail.Event {
	t.Helper()
	dir := awstest.CorpusPath(t, filepath.Join("cloudtrail", "invictus-aws-dataset"))
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invictus files in %s: %v", dir, err)
	}
	var out []cloudtrail.Event
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, r := range doc.Records {
			out = append(out, decodeEvent(t, r))
		}
	}
	return out
}

// ev builds an event from a JSON literal written in the test.
func ev(t testing.TB, s string) cloudtrail.Event { return decodeEvent(t, []byte(s)) }

// named returns the events called name.
func named(events []cloudtrail.Event, name string) []cloudtrail.Event {
	var out []cloudtrail.Event
	for _, e := range events {
		if e.EventName == name {
			out = append(out, e)
		}
	}
	return out
}

func singleEvent(t testing.TB, raw []byte) []cloudtrail.Event {
	return []cloudtrail.Event{decodeEvent(t, raw)}
}
