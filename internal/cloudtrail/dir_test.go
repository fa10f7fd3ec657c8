package cloudtrail_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// readDir reads dir and returns the events and the warnings.
func readDir(t testing.TB, dir string, opts cloudtrail.Options) ([]cloudtrail.Event, []string) {
	t.Helper()
	var events []cloudtrail.Event
	var warns []string
	opts.Warn = func(err error) { warns = append(warns, strings.ReplaceAll(err.Error(), dir, "DIR")) }
	err := cloudtrail.ReadDir(context.Background(), dir, opts, func(ev cloudtrail.Event) error {
		events = append(events, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadDir(%s): %v", dir, err)
	}
	return events, warns
}

// setCounts are the totals of one corpus set: events, and events by
// long-term (AKIA) and temporary (ASIA) keys, -1 where not checked.
type setCounts struct{ events, akia, asia int }

func TestReadDirCorpus(t *testing.T) {
	// Counts from each corpus's README: the shared one, and the small one
	// in testdata/corpus (a subset of its files).
	tests := map[string]struct {
		dir  string
		want map[awstest.Corpus]setCounts
	}{
		"invictus log files": {"cloudtrail/invictus-aws-dataset", map[awstest.Corpus]setCounts{
			awstest.SharedCorpus: {2900, 2182, 633}, awstest.SmallCorpus: {276, 242, 8}}},
		"stratus arrays": {"cloudtrail/stratus-detonation-logs", map[awstest.Corpus]setCounts{
			awstest.SharedCorpus: {310, -1, -1}, awstest.SmallCorpus: {93, -1, -1}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir, corpus := awstest.CorpusFile(t, tc.dir)
			want := tc.want[corpus]
			events, warns := readDir(t, dir, cloudtrail.Options{})
			if diff := cmp.Diff([]string{"DIR/LICENSE: skipped: not a JSON file"}, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if len(events) != want.events {
				t.Errorf("%s corpus: read %d events, want %d", corpus, len(events), want.events)
			}
			akia, asia := 0, 0
			for _, ev := range events {
				if ev.EventTime.IsZero() || ev.EventName == "" {
					t.Fatalf("event %s lacks time or name", ev.EventID)
				}
				switch key := ev.UserIdentity.AccessKeyID; {
				case strings.HasPrefix(key, "AKIA"):
					akia++
				case strings.HasPrefix(key, "ASIA"):
					asia++
				}
			}
			if want.akia >= 0 && (akia != want.akia || asia != want.asia) {
				t.Errorf("%s corpus: AKIA, ASIA events = %d, %d; want %d, %d", corpus, akia, asia, want.akia, want.asia)
			}
			t.Logf("%s corpus: %d events, %d AKIA, %d ASIA", corpus, len(events), akia, asia)
		})
	}
}

// writeFile writes content at dir/rel, creating folders.
func writeFile(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logName is a CloudTrail log file's name delivered at t.
func logName(t time.Time, unique string) string {
	return "123456789012_CloudTrail_us-east-1_" + t.Format("20060102T1504Z") + "_" + unique + ".json.gz"
}

// cloudTrailTree lays out three days of log files the way CloudTrail does,
// with digests, a stray file and a non-regular file beside them.
func cloudTrailTree(t *testing.T) string {
	dir := t.TempDir()
	region := "AWSLogs/123456789012/CloudTrail/us-east-1/"
	for d := 20; d <= 22; d++ {
		at := time.Date(2026, 11, d, 10, 5, 0, 0, time.UTC)
		folder := region + at.Format("2006/01/02/")
		writeFile(t, dir, folder+logName(at, "b"), gz(t, `{"Records":[`+record(at.Format("02")+"b", at.Add(-5*time.Minute))+`]}`))
		writeFile(t, dir, folder+logName(at.Add(-time.Hour), "a"), gz(t, `{"Records":[`+record(at.Format("02")+"a", at.Add(-65*time.Minute))+`]}`))
	}
	writeFile(t, dir, "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/21/123456789012_CloudTrail-Digest_us-east-1_x.json.gz", "{}")
	writeFile(t, dir, region+"2026/11/21/notes.txt", "not logs")
	if err := syscall.Mkfifo(filepath.Join(dir, region, "2026/11/22/fifo.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadDirCloudTrailLayout(t *testing.T) {
	dir := cloudTrailTree(t)
	tests := map[string]struct {
		opts  cloudtrail.Options
		ids   []string
		warns []string
	}{
		"every file in name order": {
			cloudtrail.Options{},
			[]string{"20a", "20b", "21a", "21b", "22a", "22b"},
			[]string{
				"DIR/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/notes.txt: skipped: not a JSON file",
				"DIR/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/fifo.json: skipped: not a regular file",
			},
		},
		"since skips earlier days and files": {
			cloudtrail.Options{Since: time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)},
			[]string{"22b"},
			[]string{"DIR/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/fifo.json: skipped: not a regular file"},
		},
		"until skips later files": {
			cloudtrail.Options{Until: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)},
			[]string{"20a", "20b"},
			nil,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			events, warns := readDir(t, dir, tc.opts)
			var ids []string
			for _, ev := range events {
				ids = append(ids, ev.EventID)
			}
			if diff := cmp.Diff(tc.ids, ids); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileTime(t *testing.T) {
	tests := map[string]struct {
		name string
		want time.Time
		ok   bool
	}{
		"cloudtrail log file": {"218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json", time.Date(2023, 7, 10, 11, 45, 0, 0, time.UTC), true},
		"with folders and gz": {"AWSLogs/1/CloudTrail/eu-west-1/2026/11/21/123456789012_CloudTrail_eu-west-1_20261121T0000Z_x.json.gz", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), true},
		"another name":        {"events.jsonl", time.Time{}, false},
		"bad time":            {"1_CloudTrail_r_2026112_x.json", time.Time{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := cloudtrail.FileTime(tc.name)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("FileTime(%q) = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestReadFromDispatches(t *testing.T) {
	dir := cloudTrailTree(t)
	file := filepath.Join(t.TempDir(), "events.jsonl")
	writeFile(t, filepath.Dir(file), "events.jsonl", record("f1", day)+"\n"+record("f2", day)+"\n")
	tests := map[string]struct {
		source string
		want   int
		err    string
	}{
		"directory":          {dir, 6, ""},
		"file":               {file, 2, ""},
		"stdin":              {"-", 1, ""},
		"s3 without client":  {"s3://bucket/AWSLogs/", 0, "read s3://bucket/AWSLogs/: no s3 client"},
		"s3 without bucket":  {"s3:///x", 0, "no bucket name"},
		"missing local path": {filepath.Join(dir, "nope"), 0, "no such file or directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n := 0
			opts := cloudtrail.Options{Warn: func(error) {}, Stdin: strings.NewReader(envelope(record("s", day)))}
			err := cloudtrail.ReadFrom(context.Background(), tc.source, opts, nil, func(cloudtrail.Event) error { n++; return nil })
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("ReadFrom(%s) = %v, want error %q", tc.source, err, tc.err)
			}
			if n != tc.want {
				t.Errorf("ReadFrom(%s) read %d events, want %d", tc.source, n, tc.want)
			}
		})
	}
}

// BenchmarkDecodeInvictus reads the whole invictus dataset (55 log files,
// 2,900 records in the shared corpus; 4 and 276 in the small one) and
// reports records per second.
func BenchmarkDecodeInvictus(b *testing.B) {
	dir := awstest.CorpusPath(b, "cloudtrail/invictus-aws-dataset")
	opts := cloudtrail.Options{Warn: func(error) {}}
	var size int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if info, err := d.Info(); err == nil && !d.IsDir() {
			size += info.Size()
		}
		return nil
	})
	b.SetBytes(size)
	records := 0
	for b.Loop() {
		err := cloudtrail.ReadDir(context.Background(), dir, opts, func(cloudtrail.Event) error { records++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// TestReadDirAheadKeepsTheOrder: with files decoded ahead on other cores,
// the sink and Warn see what a sequential read gives, in the same order:
// warnings between files, a FIFO read in turn, and a file too large to
// read ahead.
func TestReadDirAheadKeepsTheOrder(t *testing.T) {
	tree := cloudTrailTree(t)
	large := `{"Records":[` + record("large", day) + `,` + record("large2", day) + `],"pad":"` + strings.Repeat("x", 5<<20) + `"}`
	writeFile(t, tree, "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/"+logName(day, "large"), large)
	for name, dir := range map[string]string{
		"cloudtrail layout": tree,
		"invictus":          awstest.CorpusPath(t, "cloudtrail/invictus-aws-dataset"),
		"stratus":           awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs"),
	} {
		t.Run(name, func(t *testing.T) {
			// One list of events and warnings, so their interleaving counts.
			read := func(procs int) (seen []string) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				opts := cloudtrail.Options{Warn: func(err error) { seen = append(seen, "warn "+err.Error()) }}
				err := cloudtrail.ReadDir(context.Background(), dir, opts, func(ev cloudtrail.Event) error {
					seen = append(seen, "event "+ev.EventID)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return seen
			}
			want := read(1)
			if diff := cmp.Diff(want, read(4)); diff != "" || len(want) == 0 {
				t.Errorf("read ahead (-sequential +ahead):\n%s", diff)
			}
		})
	}
}
