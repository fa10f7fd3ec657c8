package cloudtrail_test

import (
	"context"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// outcome is what a read said it read whole, and warned.
type outcome struct {
	mu    sync.Mutex
	read  []string
	warns []string
}

func (o *outcome) opts(dir string) cloudtrail.Options {
	clean := func(s string) string { return strings.ReplaceAll(filepath.ToSlash(s), filepath.ToSlash(dir), "DIR") }
	return cloudtrail.Options{
		Read: func(name string) { o.mu.Lock(); o.read = append(o.read, clean(name)); o.mu.Unlock() },
		Warn: func(err error) { o.mu.Lock(); o.warns = append(o.warns, clean(err.Error())); o.mu.Unlock() },
	}
}

// TestReadSaysWhatWasReadWhole: a file read to its end is reported read;
// a truncated one, one that is not JSON, and one whose records are none
// CloudTrail's are not, each with one warning; a file with a few foreign
// records among CloudTrail's is read, its foreign records counted once.
func TestReadSaysWhatWasReadWhole(t *testing.T) {
	dir := t.TempDir()
	half := gz(t, `{"Records":[`+record("h1", day)+","+record("h2", day)+`]}`)
	files := map[string]string{
		"good.json":    `{"Records":[` + record("g1", day) + `]}`,
		"empty.json":   `{"Records":[]}`,
		"half.json.gz": half[:len(half)-12],
		"notes.json":   "not json at all",
		"foreign.json": `{"name":"a"}` + "\n" + `{"name":"b"}` + "\n",
		"mixed.jsonl":  record("m1", day) + "\n" + `{"name":"c"}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var o outcome
	var ids []string
	if err := cloudtrail.ReadDir(context.Background(), dir, o.opts(dir), func(e cloudtrail.Event) error {
		ids = append(ids, e.EventID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(o.read)
	if diff := cmp.Diff([]string{"DIR/empty.json", "DIR/good.json", "DIR/mixed.jsonl"}, o.read); diff != "" {
		t.Errorf("read whole (-want +got):\n%s", diff)
	}
	slices.Sort(o.warns)
	want := []string{
		"DIR/foreign.json: no CloudTrail records: none of its 2 records has an eventName or eventSource",
		"DIR/half.json.gz: truncated after 2 records: unexpected EOF", // its records whole, its gzip trailer cut
		"DIR/mixed.jsonl: 1 of 2 records skipped: not CloudTrail records (no eventName or eventSource)",
		"DIR/notes.json: not JSON: starts with 'n'",
	}
	if diff := cmp.Diff(want, o.warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"g1", "h1", "h2", "m1"}, ids); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestReadWarnsOfASourceThatHoldsNothing(t *testing.T) {
	dir := t.TempDir()
	var o outcome
	if err := cloudtrail.ReadFrom(context.Background(), dir, o.opts(dir), nil, func(cloudtrail.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"DIR: no CloudTrail log files in it: the directory is empty"}, o.warns); diff != "" {
		t.Errorf("empty directory (-want +got):\n%s", diff)
	}

	store := func(context.Context) (cloudtrail.ObjectStore, error) { return emptyStore{}, nil }
	o = outcome{}
	if err := cloudtrail.ReadFrom(context.Background(), "s3://trail/AWSLogs/", o.opts(dir), store, func(cloudtrail.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s3://trail/AWSLogs/: no CloudTrail log files in it: no object under this prefix"}, o.warns); diff != "" {
		t.Errorf("empty prefix (-want +got):\n%s", diff)
	}

	// A region's folder listed from --since's day on may hold nothing new.
	o = outcome{}
	opts := o.opts(dir)
	opts.Since = day
	if err := cloudtrail.ReadFrom(context.Background(), "s3://trail/AWSLogs/123456789012/CloudTrail/us-east-1/", opts, store, func(cloudtrail.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(o.warns) != 0 {
		t.Errorf("a listing from a day on warned %q", o.warns)
	}
}

// emptyStore is an object store with no objects.
type emptyStore struct{}

func (emptyStore) List(context.Context, string, string, string) iter.Seq2[cloudtrail.Object, error] {
	return func(func(cloudtrail.Object, error) bool) {}
}
func (emptyStore) Get(context.Context, string, string) (io.ReadCloser, error) {
	return nil, os.ErrNotExist
}
