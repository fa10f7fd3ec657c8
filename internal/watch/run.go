package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keywarden/keywarden/internal/clock"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/gap"
)

// Source is where a watch reads events: a trail's log files, an S3
// prefix, standard input, CloudTrail's LookupEvents.
type Source interface {
	// Read hands sink the events from opts.Since on (the zero time: all
	// there is), and warns opts.Warn of what it skips.
	Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error
}

// Lookup is CloudTrail's LookupEvents as the lookup: source reads it
// (cloudtrailaws.Lookup in AWS).
type Lookup interface {
	// Regions lists the account's enabled regions.
	Regions(ctx context.Context) ([]string, error)
	// Events hands sink every management event of regions from since on,
	// warns of each region it could not read, and returns the regions it
	// read to the end.
	Events(ctx context.Context, regions []string, since time.Time, warn func(error), sink cloudtrail.Sink) ([]string, error)
}

// SourceEnv is what sources need from the outside world. A nil adapter
// makes the sources that need it fail when read.
type SourceEnv struct {
	Stdin io.Reader // what "-" reads; nil: os.Stdin
	// Objects opens the object store of s3:// sources
	// (cloudtrailaws.S3Opener).
	Objects func(context.Context) (cloudtrail.ObjectStore, error)
	Lookup  Lookup
	Now     func() time.Time // nil: time.Now
}

// NewSource is the source a SOURCE argument names: lookup:[REGION,...] for
// LookupEvents (every enabled region when none is named), else a file, a
// directory, s3://bucket/prefix or - for standard input.
func NewSource(spec string, env SourceEnv) Source {
	if env.Now == nil {
		env.Now = time.Now
	}
	if regions, ok := strings.CutPrefix(spec, "lookup:"); ok {
		src := lookupSource{env: env}
		if regions != "" {
			src.regions = strings.Split(regions, ",")
		}
		return src
	}
	return trailSource{spec: spec, env: env}
}

// trailSource reads log files where cloudtrail.ReadFrom finds them.
type trailSource struct {
	spec string
	env  SourceEnv
}

func (s trailSource) Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	opts.Stdin = s.env.Stdin
	return cloudtrail.ReadFrom(ctx, s.spec, opts, s.env.Objects, sink)
}

// lookupSource reads LookupEvents: no trail needed, 90 days of history,
// management events only.
type lookupSource struct {
	regions []string // nil: every enabled region
	env     SourceEnv
}

func (s lookupSource) Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	if s.env.Lookup == nil {
		return errors.New("no access to CloudTrail's LookupEvents")
	}
	regions := s.regions
	if regions == nil {
		var err error
		if regions, err = s.env.Lookup.Regions(ctx); err != nil {
			return err
		}
	}
	since := opts.Since
	if since.IsZero() {
		since = s.env.Now().Add(-time.Hour) // a first poll starts an hour back, not 90 days
	}
	read, err := s.env.Lookup.Events(ctx, regions, since, opts.Warn, sink)
	if opts.Read != nil {
		for _, region := range read {
			opts.Read("lookup:" + region)
		}
	}
	return err
}

// Watch is `keywarden watch`: a source judged by a pipeline, once or poll
// after poll, remembering where it stopped.
type Watch struct {
	Pipeline *Pipeline
	Source   Source
	// Name is the source as the user named it: its cursor's key, and what
	// its errors say.
	Name string
	// Store holds the cursors: the pipeline's store.
	Store detect.Store
	// Resume reads from the source's cursor, skips the events it has
	// judged, and saves it once the alerts were delivered; it also prunes
	// the dedup marks of the state database (--resume, --follow). Without
	// it every event read is judged and nothing is remembered.
	Resume bool
	// Follow polls again every Interval until ctx ends.
	Follow   bool
	Interval time.Duration
	// Since bounds how far back a poll reads (--since); 0: no bound.
	Since time.Duration
	// Dedup is the dedup window (--dedup); marks are kept DedupKeep past it.
	Dedup time.Duration
	// SES, when set, is polled after the source on every poll.
	SES *SESPoller
	// Canaries, when set, is checked after the source on every poll.
	Canaries *CanaryPoller
	// Warnings starts a poll's warnings: warn hears what the source skips,
	// done ends the poll's (it may say how many were held back). nil: slog.
	Warnings func() (warn func(error), done func())
	Now      func() time.Time                                 // nil: time.Now
	Sleep    func(ctx context.Context, d time.Duration) error // nil: a timer

	inputs, events atomic.Int64 // read so far by this run
	gaps           gap.List     // what this run could not read
	sourceGaps     atomic.Int64 // of the warnings, the source's
	polls          int
}

// Outcome is what a run read, and what it could not.
type Outcome struct {
	Inputs int64     // files, objects, streams and lookup regions read whole
	Events int64     // events read (those judged before included)
	Gaps   []gap.Gap // what could not be read: the run is incomplete
}

// Outcome is what the run has read so far, and what it could not.
func (w *Watch) Outcome() Outcome {
	return Outcome{Inputs: w.inputs.Load(), Events: w.events.Load(), Gaps: w.gaps.Gaps()}
}

// Read reports whether the run has read anything yet: an input whole, or
// an event.
func (w *Watch) Read() bool { return w.inputs.Load() > 0 || w.events.Load() > 0 }

// NothingRead is the error of a first poll that could read none of its
// source (every file unreadable, or not CloudTrail; every region failing):
// the watch could not look at all, which is no "no alerts".
type NothingRead struct {
	Source string
	Gaps   []gap.Gap
}

func (e *NothingRead) Error() string {
	switch g := e.Gaps[0]; {
	case len(e.Gaps) > 1:
		return fmt.Sprintf("watch %s: nothing could be read: %s (and %d more)", e.Source, g, len(e.Gaps)-1)
	case g.Source == e.Source:
		return fmt.Sprintf("watch %s: %s", e.Source, g.Reason)
	default:
		return fmt.Sprintf("watch %s: %s", e.Source, g)
	}
}

// Run polls once, or with Follow until ctx ends, which is no error. A
// first poll that reads nothing at all and meets gaps is *NothingRead;
// later polls' gaps are warned about and kept in Outcome.
func (w *Watch) Run(ctx context.Context) error {
	for {
		if err := w.Poll(ctx); err != nil {
			return err
		}
		if w.polls++; w.polls == 1 && !w.Read() && w.sourceGaps.Load() > 0 {
			return &NothingRead{Source: w.Name, Gaps: w.gaps.Gaps()}
		}
		if !w.Follow {
			return nil
		}
		_ = w.Pipeline.Flush(ctx) // a rate-limit summary waits no longer than one poll
		sleep := w.Sleep
		if sleep == nil {
			sleep = clock.Sleep
		}
		if sleep(ctx, w.Interval) != nil {
			return nil
		}
	}
}

// Poll reads what is new in the source and judges it, then SES's
// statistics.
func (w *Watch) Poll(ctx context.Context) error {
	if w.Resume {
		if _, err := pruneDedup(ctx, w.Store, w.now().Add(-w.Dedup-DedupKeep)); err != nil {
			return err
		}
	}
	if err := w.read(ctx); err != nil {
		return err
	}
	if err := w.pollCanaries(ctx); err != nil {
		return err
	}
	return w.pollSES(ctx)
}

// pollCanaries runs the canary check, its alerts through the pipeline.
func (w *Watch) pollCanaries(ctx context.Context) error {
	if w.Canaries == nil {
		return nil
	}
	p := *w.Canaries
	p.Warn = w.gapWarn(p.Warn)
	return p.Poll(ctx, w.Pipeline.Raise)
}

// read judges the source from its cursor and saves the cursor after the
// alerts were delivered.
func (w *Watch) read(ctx context.Context) error {
	cur, err := loadCursor(ctx, w.Store, w.Name)
	if err != nil {
		return err
	}
	warn, done := w.warnings()
	sourceWarn := w.gapWarn(warn)
	opts := cloudtrail.Options{Since: cur.since(), Read: func(string) { w.inputs.Add(1) },
		Warn: func(err error) { w.sourceGaps.Add(1); sourceWarn(err) }}
	if now := w.now(); w.Since > 0 && (opts.Since.IsZero() || now.Sub(opts.Since) > w.Since) {
		opts.Since = now.Add(-w.Since)
	}
	_, err = w.Pipeline.Judge(ctx, func(ctx context.Context, sink cloudtrail.Sink) error {
		if w.Resume { // a plain run judges everything it reads
			sink = cur.fresh(sink)
		}
		return w.Source.Read(ctx, opts, counted(&w.events, sink))
	})
	done()
	if err != nil {
		return fmt.Errorf("watch %s: %w", w.Name, err)
	}
	if !w.Resume || w.Name == "-" { // standard input has no place to resume from
		return nil
	}
	return cur.save(ctx, w.Store, w.Name)
}

func (w *Watch) pollSES(ctx context.Context) error {
	if w.SES == nil {
		return nil
	}
	ses := *w.SES
	ses.Warn = w.gapWarn(ses.Warn)
	alerts, err := ses.Poll(ctx, w.now())
	if err != nil {
		return err
	}
	return w.Pipeline.Raise(ctx, alerts)
}

func (w *Watch) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

// gapWarn records each warning as a gap of the run, then passes it on.
func (w *Watch) gapWarn(warn func(error)) func(error) {
	return func(err error) {
		w.gaps.Add(gapOf(w.Name, err))
		if warn != nil {
			warn(err)
		}
	}
}

// gapOf is a reader's warning as a gap: a bad record names its file and
// its index, other warnings the source they are about.
func gapOf(source string, err error) gap.Gap {
	var re *cloudtrail.RecordError
	if errors.As(err, &re) {
		reason := re.Err.Error()
		if re.Index >= 0 {
			reason = fmt.Sprintf("record %d: %v", re.Index, re.Err)
		}
		return gap.Gap{Source: re.File, Reason: reason}
	}
	return gap.Of(source, err)
}

// counted passes sink every event, counting them in n.
func counted(n *atomic.Int64, sink cloudtrail.Sink) cloudtrail.Sink {
	return func(e cloudtrail.Event) error {
		n.Add(1)
		return sink(e)
	}
}

func (w *Watch) warnings() (func(error), func()) {
	if w.Warnings == nil {
		return func(err error) { slog.Warn("watch: skipped input", "err", err) }, func() {}
	}
	return w.Warnings()
}
