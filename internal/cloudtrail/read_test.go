package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// record returns a CloudTrail record as a JSON object text.
func record(id string, at time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","eventID":%q,"eventTime":%q,"eventSource":"iam.amazonaws.com",`+
		`"eventName":"CreateUser","userIdentity":{"type":"IAMUser","accessKeyId":%q}}`,
		id, at.Format(time.RFC3339), awstest.FakeKeyID("reader", 123456789012))
}

func envelope(rec string) string {
	return `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":` + rec + `}`
}

func gz(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// result is what a read delivered and warned.
type result struct {
	ids   []string
	warns []string
}

func readString(t *testing.T, content string, opts cloudtrail.Options) result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var r result
	opts.Warn = func(err error) { r.warns = append(r.warns, strings.ReplaceAll(err.Error(), path, "FILE")) }
	err := cloudtrail.ReadFile(context.Background(), path, opts, func(ev cloudtrail.Event) error {
		r.ids = append(r.ids, ev.EventID)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	return r
}

var day = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestReadFileDetectsFormat(t *testing.T) {
	a, b, c := record("a", day), record("b", day), record("c", day)
	logFile := `{"Records":[` + a + "," + b + "," + c + `]}`
	pretty := func(rec string) string {
		var out bytes.Buffer
		json.Indent(&out, []byte(rec), "", "  ")
		return out.String()
	}
	tests := map[string]string{
		"cloudtrail log file":              logFile,
		"gzipped log file":                 gz(t, logFile),
		"pretty log file with later keys":  pretty(`{"Records":[` + a + "," + b + "," + c + `],"x":{"y":[1]}}`),
		"json array":                       "[" + a + ",\n" + b + "," + c + "]",
		"json lines":                       a + "\n" + b + "\r\n\n" + c,
		"gzipped json lines":               gz(t, a+"\n"+b+"\n"+c+"\n"),
		"eventbridge lines":                envelope(a) + "\n" + envelope(b) + "\n" + envelope(c) + "\n",
		"eventbridge array":                "[" + envelope(a) + "," + envelope(b) + "," + envelope(c) + "]",
		"pretty records one after another": pretty(a) + "\n" + pretty(b) + pretty(c),
		"byte order mark and whitespace":   "\xef\xbb\xbf \n" + logFile + "\n",
		"log files one per line":           `{"Records":[` + a + `]}` + "\n" + `{"Records":[` + b + "," + c + `]}`,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			got := readString(t, content, cloudtrail.Options{})
			if diff := cmp.Diff(result{ids: []string{"a", "b", "c"}}, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFileSkipsBadRecords(t *testing.T) {
	a, c := record("a", day), record("c", day)
	bad := strings.Replace(record("b", day), day.Format(time.RFC3339), "last tuesday", 1)
	tests := map[string]struct {
		content string
		want    result
	}{
		"bad eventTime in a log file": {
			`{"Records":[` + a + "," + bad + "," + c + `]}`,
			result{[]string{"a", "c"}, []string{`FILE: record 1: decode record: parse eventTime "last tuesday": not RFC 3339 or "2006-01-02 15:04:05"`}},
		},
		"broken json line": {
			a + "\n{\"eventID\":\n" + c + "\n",
			result{[]string{"a", "c"}, []string{"FILE: record 1: decode record: unexpected end of JSON input"}},
		},
		"record that is not an object": {
			`[` + a + `,42,` + c + `]`,
			result{[]string{"a", "c"}, []string{"FILE: record 1: decode record: want an object, got a number"}},
		},
		"syntax error ends the array": {
			`[` + a + `,{"eventID":}` + c + `]`,
			result{[]string{"a"}, []string{"FILE: invalid character '}' looking for beginning of value"}},
		},
		"not json at all": {
			"eventID,eventName\n1,CreateUser\n",
			result{nil, []string{`FILE: not JSON: starts with 'e'`}},
		},
		"empty file": {"", result{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := readString(t, tc.content, cloudtrail.Options{})
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFileWarnsTruncatedGzip(t *testing.T) {
	var recs []string
	for i := range 200 {
		recs = append(recs, record(fmt.Sprint(i), day))
	}
	whole := gz(t, `{"Records":[`+strings.Join(recs, ",")+`]}`)
	got := readString(t, whole[:len(whole)/2], cloudtrail.Options{})
	if len(got.ids) == 0 || len(got.ids) >= 200 {
		t.Errorf("read %d records from half a gzip stream, want some but not all", len(got.ids))
	}
	if len(got.warns) != 1 || !strings.Contains(got.warns[0], "truncated after") {
		t.Errorf("warnings = %q, want one about truncation", got.warns)
	}
}

func TestReadFileFiltersByEventTime(t *testing.T) {
	content := record("early", day.Add(-time.Hour)) + "\n" + record("in", day) + "\n" +
		`{"eventID":"untimed","eventName":"GetCallerIdentity"}` + "\n" + record("late", day.Add(2*time.Hour)) + "\n"
	got := readString(t, content, cloudtrail.Options{Since: day, Until: day.Add(time.Hour)})
	if diff := cmp.Diff([]string{"in", "untimed"}, got.ids); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}

func TestSinkStopsTheRead(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"1.json", "2.json"} {
		content := `{"Records":[` + record(n+"a", day) + "," + record(n+"b", day) + `]}`
		if err := os.WriteFile(filepath.Join(dir, n), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	err := cloudtrail.ReadDir(context.Background(), dir, cloudtrail.Options{}, func(ev cloudtrail.Event) error {
		ids = append(ids, ev.EventID)
		return cloudtrail.ErrStop
	})
	if err != nil || len(ids) != 1 {
		t.Errorf("ReadDir = %v after %q, want nil after one event", err, ids)
	}
	sinkErr := fmt.Errorf("disk full")
	err = cloudtrail.ReadDir(context.Background(), dir, cloudtrail.Options{}, func(cloudtrail.Event) error { return sinkErr })
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("ReadDir with a failing sink = %v, want its error", err)
	}
}

func TestReadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := cloudtrail.ReadReader(ctx, strings.NewReader(record("a", day)), "x", cloudtrail.Options{},
		func(cloudtrail.Event) error { t.Error("sink called after cancel"); return nil })
	if err != context.Canceled {
		t.Errorf("ReadReader = %v, want context.Canceled", err)
	}
}

func FuzzReadReader(f *testing.F) {
	a, b := record("a", day), record("b", day)
	for _, seed := range []string{
		`{"Records":[` + a + "," + b + `]}`, "[" + a + "," + b + "]", a + "\n" + b, envelope(a) + "\n",
		`{"Records":{"a":[1,{}]},"x":1}`, "[1,\"x\",null]", `{"a":1}{"b":2}`, gz(f, a+"\n"+b), "\xef\xbb\xbf[]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := cloudtrail.ReadReader(context.Background(), bytes.NewReader(data), "fuzz",
			cloudtrail.Options{Warn: func(error) {}}, func(ev cloudtrail.Event) error {
				n++
				if !json.Valid(ev.Raw) {
					t.Errorf("event with invalid Raw %q", ev.Raw)
				}
				return nil
			})
		if err != nil {
			t.Errorf("ReadReader returned %v; bad input must only warn", err)
		}
		if n > len(data) {
			t.Errorf("%d events from %d bytes", n, len(data))
		}
	})
}
