package watch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/gap"
)

// broken is a Source whose poll n reads its files as files[n] says: a
// name is a file read whole, an error a warning about one that was not.
type broken struct {
	polls [][]any
	n     int
}

func (b *broken) Read(_ context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	poll := b.polls[min(b.n, len(b.polls)-1)]
	b.n++
	for _, f := range poll {
		switch f := f.(type) {
		case string:
			if err := sink(event(f, now0)); err != nil {
				return err
			}
			opts.Read(f)
		case error:
			opts.Warn(f)
		}
	}
	return nil
}

func recordErr(file string, index int, why string) error {
	return &cloudtrail.RecordError{File: file, Index: index, Err: errors.New(why)}
}

// TestWatchThatReadsNothingIsAnError: a first poll that meets only gaps
// could not look at all: *NothingRead naming the source and why, one line
// when there is one reason; with something read, gaps are an Outcome.
func TestWatchThatReadsNothingIsAnError(t *testing.T) {
	tests := []struct {
		name  string
		poll  []any
		err   string
		gaps  []gap.Gap
		input int64
	}{
		{"one file, not CloudTrail", []any{recordErr("logs/", -1, "not JSON: starts with 'n'")},
			"watch logs/: not JSON: starts with 'n'", []gap.Gap{{Source: "logs/", Reason: "not JSON: starts with 'n'"}}, 0},
		{"every region failing", []any{errors.New("cloudtrail lookup in us-east-1 failed: refused"), errors.New("cloudtrail lookup in eu-west-1 failed: refused")},
			"watch logs/: nothing could be read: logs/: cloudtrail lookup in us-east-1 failed: refused (and 1 more)",
			[]gap.Gap{{Source: "logs/", Reason: "cloudtrail lookup in us-east-1 failed: refused"}, {Source: "logs/", Reason: "cloudtrail lookup in eu-west-1 failed: refused"}}, 0},
		{"a file among others", []any{"a.json", recordErr("logs/b.json.gz", -1, "gzip: unexpected EOF"), recordErr("logs/c.json", 7, "decode record: bad")},
			"", []gap.Gap{{Source: "logs/b.json.gz", Reason: "gzip: unexpected EOF"}, {Source: "logs/c.json", Reason: "record 7: decode record: bad"}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _, _ := testWatch(&broken{polls: [][]any{tc.poll}}, &detect.MemStore{}, false)
			err := w.Run(context.Background())
			var nr *NothingRead
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Run = %v, want the gaps as the outcome", err)
			case tc.err != "" && (!errors.As(err, &nr) || err.Error() != tc.err):
				t.Fatalf("Run = %v, want *NothingRead %q", err, tc.err)
			}
			out := w.Outcome()
			if diff := cmp.Diff(tc.gaps, out.Gaps); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
			if out.Inputs != tc.input {
				t.Errorf("inputs read = %d, want %d", out.Inputs, tc.input)
			}
		})
	}
}

// TestFollowCarriesOnPastALaterPollThatReadsNothing: only the first poll
// proves the source can be read; later ones that fail are gaps.
func TestFollowCarriesOnPastALaterPollThatReadsNothing(t *testing.T) {
	src := &broken{polls: [][]any{{"e1"}, {errors.New("list s3://trail/: throttled")}}}
	w, r, _ := testWatch(src, &detect.MemStore{}, true)
	w.Follow, w.Interval = true, time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeps := 0
	w.Sleep = func(ctx context.Context, _ time.Duration) error {
		if sleeps++; sleeps == 3 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil: a follower outlives a bad poll", err)
	}
	out := w.Outcome()
	if len(r.judged) != 1 || len(out.Gaps) != 1 || !strings.Contains(out.Gaps[0].Reason, "throttled") || out.Events != 1 {
		t.Errorf("judged %v, outcome %+v; want e1 and the one gap, kept once", r.judged, out)
	}
}

// TestLookupSourceSaysWhichRegionsItRead: the regions read whole count as
// inputs, so a lookup whose every region fails reads nothing.
func TestLookupSourceSaysWhichRegionsItRead(t *testing.T) {
	var read []string
	src := NewSource("lookup:eu-west-1,us-east-1", SourceEnv{Lookup: &lookup{}, Now: func() time.Time { return now0 }})
	opts := cloudtrail.Options{Warn: func(error) {}, Read: func(name string) { read = append(read, name) }}
	if err := src.Read(context.Background(), opts, func(cloudtrail.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lookup:us-east-1"}, read); diff != "" {
		t.Errorf("read (-want +got):\n%s", diff)
	}
}
