package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/state"
)

// trail is a Source over events in memory that honours Since, and keeps
// the options of each read.
type trail struct {
	events []cloudtrail.Event
	reads  []cloudtrail.Options
	err    error // returned after the events
}

func (s *trail) Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	s.reads = append(s.reads, opts)
	for _, e := range s.events {
		if !opts.Since.IsZero() && e.EventTime.Before(opts.Since) {
			continue
		}
		if err := sink(e); err != nil {
			return err
		}
	}
	return s.err
}

// raiser is a detector that raises one high alert per event and keeps the
// ids of the events it judged; Flush counts commits.
type raiser struct {
	judged  []string
	commits int
}

func (r *raiser) Observe(_ context.Context, e *cloudtrail.Event) ([]detect.Alert, error) {
	r.judged = append(r.judged, e.EventID)
	return []detect.Alert{{Rule: "KW-TEST", Severity: severity.High, EventID: e.EventID, EventTime: e.EventTime,
		Details: map[string]any{"resource": e.EventID}}}, nil
}

func (r *raiser) Flush(context.Context) error { r.commits++; return nil }

// sent is a sink that keeps the event ids of the alerts it was sent, and
// fails while failures is positive.
type sent struct {
	ids      []string
	failures int
	flushes  int
}

func (s *sent) Send(_ context.Context, alerts []detect.Alert) error {
	if s.failures > 0 {
		s.failures--
		return errors.New("sink unavailable")
	}
	for _, a := range alerts {
		s.ids = append(s.ids, a.EventID)
	}
	return nil
}

func (s *sent) Flush(context.Context) error { s.flushes++; return nil }
func (s *sent) Close() error                { return nil }

var now0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func event(id string, at time.Time) cloudtrail.Event {
	return cloudtrail.Event{EventID: id, EventTime: at, EventName: "CreateUser"}
}

// testWatch is a watch of src over store with a raiser, dedup and a sent
// sink, at now0.
func testWatch(src Source, store detect.Store, resume bool) (*Watch, *raiser, *sent) {
	r, s := &raiser{}, &sent{}
	dedup := NewDeduper(store, time.Hour)
	p := &Pipeline{Detector: r, Filter: dedup, Sinks: []Sink{s}}
	return &Watch{Pipeline: p, Source: src, Name: "logs/", Store: store, Resume: resume,
		Now: func() time.Time { return now0 }}, r, s
}

func TestWatchResumeNeitherSkipsNorRepeats(t *testing.T) {
	store := &detect.MemStore{}
	src := &trail{events: []cloudtrail.Event{event("e1", now0.Add(-50*time.Minute)), event("e2", now0.Add(-49*time.Minute))}}
	polls := []struct {
		add  []cloudtrail.Event
		want []string
	}{
		{nil, []string{"e1", "e2"}},
		// A late event, and one already judged delivered again.
		{[]cloudtrail.Event{event("e3", now0.Add(-49*time.Minute-30*time.Second)), event("e2", now0.Add(-49*time.Minute))}, []string{"e3"}},
		{nil, nil},
	}
	for i, poll := range polls {
		w, r, s := testWatch(src, store, true) // a new run each time: only the store carries over
		src.events = append(src.events, poll.add...)
		if err := w.Run(context.Background()); err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		if diff := cmp.Diff(poll.want, r.judged); diff != "" {
			t.Errorf("poll %d judged (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(poll.want, s.ids); diff != "" {
			t.Errorf("poll %d alerts (-want +got):\n%s", i, diff)
		}
		if r.commits != 1 {
			t.Errorf("poll %d committed %d times, want once", i, r.commits)
		}
	}
	// The second and third polls start an hour (Lateness) before the newest event judged.
	if got, want := src.reads[1].Since, now0.Add(-49*time.Minute-Lateness); !got.Equal(want) {
		t.Errorf("second poll read since %v, want %v", got, want)
	}
}

func TestWatchPlainRunRemembersNothing(t *testing.T) {
	store := &detect.MemStore{}
	src := &trail{events: []cloudtrail.Event{event("e1", now0), event("e1", now0), event("e2", now0)}}
	for i := range 2 {
		w, r, _ := testWatch(src, store, false)
		if err := w.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"e1", "e1", "e2"}, r.judged); diff != "" {
			t.Errorf("run %d judged (-want +got):\n%s", i, diff)
		}
	}
	if _, ok, _ := store.Get(context.Background(), cursorNamespace, "logs/"); ok {
		t.Error("a plain run saved a cursor")
	}
}

func TestWatchSavesNoCursorForStdin(t *testing.T) {
	store := &detect.MemStore{}
	w, r, _ := testWatch(&trail{events: []cloudtrail.Event{event("e1", now0), event("e1", now0)}}, store, true)
	w.Name = "-"
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"e1"}, r.judged); diff != "" {
		t.Errorf("judged (-want +got):\n%s", diff)
	}
	if _, ok, _ := store.Get(context.Background(), cursorNamespace, "-"); ok {
		t.Error("standard input has no place to resume from, yet its cursor was saved")
	}
}

// A sink that fails leaves the cursor where it was and the alerts not
// marked as sent: the next poll sends them.
func TestWatchFailedDeliveryIsSentAgainNextPoll(t *testing.T) {
	store := &detect.MemStore{}
	src := &trail{events: []cloudtrail.Event{event("e1", now0.Add(-time.Minute))}}
	w, _, s := testWatch(src, store, true)
	s.failures = 1
	err := w.Run(context.Background())
	if err == nil || err.Error() != "watch logs/: sink unavailable" {
		t.Fatalf("first poll: %v; want the sink's error, naming the source", err)
	}
	if _, ok, _ := store.Get(context.Background(), cursorNamespace, "logs/"); ok {
		t.Error("the cursor was saved although the alerts were not delivered")
	}
	w, _, s = testWatch(src, store, true)
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"e1"}, s.ids); diff != "" {
		t.Errorf("second poll sent (-want +got):\n%s", diff)
	}
}

func TestWatchFollowPollsEveryIntervalUntilCancelled(t *testing.T) {
	src := &trail{}
	w, r, s := testWatch(src, &detect.MemStore{}, true)
	w.Follow, w.Interval = true, 5*time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var slept []time.Duration
	w.Sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		if len(slept) == 3 {
			cancel()
			return ctx.Err()
		}
		src.events = append(src.events, event(fmt.Sprint("e", len(slept)), now0.Add(time.Duration(len(slept))*time.Second)))
		return nil
	}
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run after cancel = %v; want nil", err)
	}
	if diff := cmp.Diff([]string{"e1", "e2"}, r.judged); diff != "" {
		t.Errorf("judged over three polls (-want +got):\n%s", diff)
	}
	if len(slept) != 3 || slept[0] != 5*time.Minute || s.flushes != 3 {
		t.Errorf("slept %v, flushed sinks %d times; want 3 sleeps of the interval, each after a flush", slept, s.flushes)
	}
}

func TestWatchSinceBoundsHowFarBackAPollReads(t *testing.T) {
	store := &detect.MemStore{}
	src := &trail{events: []cloudtrail.Event{event("old", now0.Add(-48*time.Hour)), event("new", now0.Add(-time.Hour))}}
	w, r, _ := testWatch(src, store, true)
	w.Since = 24 * time.Hour
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"new"}, r.judged); diff != "" {
		t.Errorf("judged (-want +got):\n%s", diff)
	}
	// The cursor (an hour before "new") is within --since: it decides.
	w, _, _ = testWatch(src, store, true)
	w.Since = 24 * time.Hour
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := src.reads[1].Since, now0.Add(-2*time.Hour); !got.Equal(want) {
		t.Errorf("second read since %v, want the cursor's %v", got, want)
	}
}

func TestWatchReadErrorNamesTheSourceAndWarningsEndWithThePoll(t *testing.T) {
	src := &trail{err: errors.New("list s3://trail/: AccessDenied")}
	w, _, _ := testWatch(src, &detect.MemStore{}, false)
	var log []string
	w.Warnings = func() (func(error), func()) {
		return func(err error) { log = append(log, "warn "+err.Error()) }, func() { log = append(log, "done") }
	}
	err := w.Run(context.Background())
	if err == nil || err.Error() != "watch logs/: list s3://trail/: AccessDenied" {
		t.Errorf("err = %v", err)
	}
	src.reads[0].Warn(errors.New("a.json: record 3: bad"))
	if diff := cmp.Diff([]string{"done", "warn a.json: record 3: bad"}, log); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestWatchPrunesOldDedupMarksOfTheStateDatabase(t *testing.T) {
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := StateStore(db)
	ctx := context.Background()
	if err := store.Put(ctx, DedupNamespace, "old", []byte(`{"start":"2026-01-01T00:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	w, _, _ := testWatch(&trail{}, store, true)
	w.Dedup = time.Hour
	w.Now = func() time.Time { return time.Now().Add(DedupKeep + 2*time.Hour) } // the mark is a week past its window
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := store.Get(ctx, DedupNamespace, "old"); ok {
		t.Error("a dedup mark a week past its window survived a --resume poll")
	}
}

// stats is an SESStats of fixed answers.
type stats struct {
	regions []string
	points  map[string][]SendPoint
}

func (s stats) Regions(context.Context) ([]string, error) { return s.regions, nil }
func (s stats) Account(context.Context) (string, error)   { return "123456789012", nil }
func (s stats) SendPoints(_ context.Context, region string) ([]SendPoint, error) {
	p, ok := s.points[region]
	if !ok {
		return nil, fmt.Errorf("ses get-send-statistics in %s: AccessDenied", region)
	}
	return p, nil
}

func TestWatchPollsSESAfterTheSource(t *testing.T) {
	w, _, s := testWatch(&trail{}, &detect.MemStore{}, false)
	var warned []string
	w.SES = &SESPoller{Floor: 20, Warn: func(err error) { warned = append(warned, err.Error()) },
		Stats: stats{regions: []string{"eu-west-1", "us-east-1", "us-west-2"}, points: map[string][]SendPoint{
			"us-east-1": {{At: now0.Add(-10 * time.Minute), Attempts: 25}},
			"us-west-2": {{At: now0.Add(-10 * time.Minute), Attempts: 5}},
		}}}
	var alerts []detect.Alert
	w.Pipeline.Sinks = append(w.Pipeline.Sinks, sinkFunc(func(as []detect.Alert) { alerts = append(alerts, as...) }))
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Rule != SESSpikeRule || alerts[0].Region != "us-east-1" || alerts[0].AccountID != "123456789012" {
		t.Errorf("alerts %+v; want one spike in us-east-1 of the account", alerts)
	}
	if diff := cmp.Diff([]string{"ses get-send-statistics in eu-west-1: AccessDenied"}, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(s.ids) != 1 {
		t.Errorf("the spike reached %d of the sinks' alerts, want 1", len(s.ids))
	}
}

type sinkFunc func([]detect.Alert)

func (f sinkFunc) Send(_ context.Context, as []detect.Alert) error { f(as); return nil }
func (f sinkFunc) Close() error                                    { return nil }

// lookup is a Lookup that keeps what it was asked.
type lookup struct {
	regions []string
	since   time.Time
}

func (l *lookup) Regions(context.Context) ([]string, error) {
	return []string{"eu-west-1", "us-east-1"}, nil
}
func (l *lookup) Events(_ context.Context, regions []string, since time.Time, warn func(error), sink cloudtrail.Sink) ([]string, error) {
	l.regions, l.since = regions, since
	warn(errors.New("cloudtrail lookup in eu-west-1 failed"))
	return regions[1:], sink(event("l1", since))
}

func TestLookupSource(t *testing.T) {
	tests := map[string]struct {
		spec    string
		since   time.Time
		regions []string
		from    time.Time
	}{
		"every enabled region, an hour back": {"lookup:", time.Time{}, []string{"eu-west-1", "us-east-1"}, now0.Add(-time.Hour)},
		"the regions named, from the cursor": {"lookup:us-east-1,ap-south-1", now0.Add(-3 * time.Hour), []string{"us-east-1", "ap-south-1"}, now0.Add(-3 * time.Hour)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := &lookup{}
			src := NewSource(tc.spec, SourceEnv{Lookup: l, Now: func() time.Time { return now0 }})
			var warned, got []string
			opts := cloudtrail.Options{Since: tc.since, Warn: func(err error) { warned = append(warned, err.Error()) }}
			if err := src.Read(context.Background(), opts, func(e cloudtrail.Event) error { got = append(got, e.EventID); return nil }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.regions, l.regions); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
			if !l.since.Equal(tc.from) || len(got) != 1 || len(warned) != 1 {
				t.Errorf("read from %v: events %v, warnings %v; want from %v, l1 and the warning", l.since, got, warned, tc.from)
			}
		})
	}
	err := NewSource("lookup:", SourceEnv{}).Read(context.Background(), cloudtrail.Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "LookupEvents") {
		t.Errorf("lookup without an adapter: %v", err)
	}
}

// TestJudgeBatchesAndCommitsOnce: events are judged as they are read, in
// batches sorted by time, and the detectors' state is committed once, at
// the end of the pass.
func TestJudgeBatchesAndCommitsOnce(t *testing.T) {
	r := &raiser{}
	p := &Pipeline{Detector: r}
	total := 2*batchSize + 1
	var judgedWhenRead []int // how many events had been judged when each batch boundary was read
	n, err := p.Judge(context.Background(), func(_ context.Context, sink cloudtrail.Sink) error {
		for i := range total {
			if i%batchSize == 0 {
				judgedWhenRead = append(judgedWhenRead, len(r.judged))
			}
			// Each batch arrives newest first.
			if err := sink(event(fmt.Sprint(i), now0.Add(-time.Duration(i%batchSize)*time.Second))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || n != total {
		t.Fatalf("Judge = %d, %v; want %d events", n, err, total)
	}
	if diff := cmp.Diff([]int{0, batchSize, 2 * batchSize}, judgedWhenRead); diff != "" {
		t.Errorf("judged before each batch was read (-want +got):\n%s", diff)
	}
	if r.judged[0] != fmt.Sprint(batchSize-1) || r.judged[batchSize-1] != "0" || r.commits != 1 {
		t.Errorf("first batch judged from %s to %s, %d commits; want oldest first and one commit",
			r.judged[0], r.judged[batchSize-1], r.commits)
	}
}

func TestJudgeCommitsNothingAfterAFailedRead(t *testing.T) {
	r := &raiser{}
	p := &Pipeline{Detector: r}
	_, err := p.Judge(context.Background(), func(_ context.Context, sink cloudtrail.Sink) error {
		if err := sink(event("e1", now0)); err != nil {
			return err
		}
		return errors.New("truncated")
	})
	if err == nil || r.commits != 0 || len(r.judged) != 0 {
		t.Errorf("err %v, %d commits, judged %v; want the error, no commit, nothing judged", err, r.commits, r.judged)
	}
}
