package respond

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/gap"
)

// Lookup is CloudTrail's LookupEvents as the review reads it
// (cloudtrailaws.Lookup in AWS).
type Lookup interface {
	// Regions lists the account's enabled regions.
	Regions(ctx context.Context) ([]string, error)
	// KeyEvents hands sink the events made with the access key keyID in
	// regions from since on; what it skips goes to warn. It returns the
	// regions it could not read, with the reason; the error ends the read
	// (a cancelled ctx, sink's).
	KeyEvents(ctx context.Context, keyID string, regions []string, since time.Time, warn func(error), sink cloudtrail.Sink) (map[string]error, error)
}

// Read is what an EventSource found of one key: its events, the sources it
// read, and those it could not (a region denied, a file corrupt at a
// record), so that the review never takes an unread source for silence.
type Read struct {
	Events  []cloudtrail.Event
	Sources []string // "LookupEvents in us-east-1", each --logs source
	Gaps    []gap.Gap
}

// Sources is the review's EventSource: a key's events from CloudTrail log
// files and from LookupEvents. An event found in both counts once.
type Sources struct {
	// Logs are CloudTrail log sources (--logs): s3://bucket/prefix, a
	// directory or a file. They are read once, at the first key's review,
	// for that key and the other Keys of the run.
	Logs []string
	Keys []string
	// Objects opens the object store s3:// logs are read from.
	Objects func(context.Context) (cloudtrail.ObjectStore, error)
	// Lookup, when set, is asked for each key's events in Regions (nil:
	// every enabled region).
	Lookup  Lookup
	Regions []string
	// Warn hears of what was skipped: unreadable files, regions not read.
	Warn func(error)

	logs       []cloudtrail.Event // kept: the exposed keys' and temporary keys' events (minted keys are found later)
	read       bool
	logsRead   []string // the log sources read (perhaps with gaps)
	logGaps    []gap.Gap
	regionsErr error // listing the enabled regions failed: no lookup
}

var _ EventSource = (*Sources)(nil)

// Events returns keyID's events since the given time, and the STS call
// that minted it when keyID is a temporary key, with what was read and
// what could not be. The error is a cancelled ctx.
func (s *Sources) Events(ctx context.Context, keyID string, since time.Time) (Read, error) {
	var rd Read
	seen := map[string]bool{}
	add := func(e cloudtrail.Event) error {
		mine := e.UserIdentity.AccessKeyID == keyID || mintedIt(e, keyID)
		if mine && !e.EventTime.Before(since) && (e.EventID == "" || !seen[e.EventID]) {
			seen[e.EventID] = true
			rd.Events = append(rd.Events, e)
		}
		return nil
	}
	if err := s.readLogs(ctx, keyID, since); err != nil {
		return rd, err
	}
	rd.Sources, rd.Gaps = slices.Clone(s.logsRead), slices.Clone(s.logGaps)
	for _, e := range s.logs {
		_ = add(e)
	}
	if s.Lookup != nil {
		if err := s.lookup(ctx, keyID, since, add, &rd); err != nil {
			return rd, fmt.Errorf("lookup events: %w", err)
		}
	}
	return rd, nil
}

// lookup reads keyID's events from LookupEvents, in every enabled region
// unless Regions names some (listed once, for every key), and notes in rd
// each region read or not.
func (s *Sources) lookup(ctx context.Context, keyID string, since time.Time, sink cloudtrail.Sink, rd *Read) error {
	if s.Regions == nil && s.regionsErr == nil {
		regions, err := s.Lookup.Regions(ctx)
		if err != nil {
			s.regionsErr = err
			s.warn(fmt.Errorf("cloudtrail lookup: list the enabled regions: %w: the key's activity is unknown there", err))
		}
		s.Regions = regions
	}
	if s.regionsErr != nil {
		rd.Gaps = addGap(rd.Gaps, gap.Gap{Source: "LookupEvents", Reason: "list the enabled regions: " + oneLine(s.regionsErr.Error())})
		return ctx.Err()
	}
	failed, err := s.Lookup.KeyEvents(ctx, keyID, s.Regions, since, s.warn, sink)
	if err != nil {
		return err
	}
	for _, region := range s.Regions {
		src := "LookupEvents in " + region
		if why, ok := failed[region]; ok {
			rd.Gaps = addGap(rd.Gaps, gap.Gap{Source: src, Reason: oneLine(why.Error())})
		} else if !slices.Contains(rd.Sources, src) {
			rd.Sources = append(rd.Sources, src)
		}
	}
	return nil
}

// readLogs reads every log source once, keeping the events of the exposed
// keys, of temporary keys (which they may have minted) and the STS calls
// that minted temporary keys (which may have minted them). A source that
// fails, and each file with records it could not decode, is a gap; only a
// cancelled ctx is an error.
func (s *Sources) readLogs(ctx context.Context, keyID string, since time.Time) error {
	if s.read {
		return nil
	}
	s.read = true
	for _, src := range s.Logs {
		var gaps fileGaps
		opts := cloudtrail.Options{Since: since, Warn: func(err error) { s.warn(err); gaps.add(src, err) }}
		err := cloudtrail.ReadFrom(ctx, src, opts, s.Objects, func(e cloudtrail.Event) error {
			if k := e.UserIdentity.AccessKeyID; k == keyID || slices.Contains(s.Keys, k) || strings.HasPrefix(k, "ASIA") || isMinting(e) {
				s.logs = append(s.logs, e)
			}
			return nil
		})
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			s.warn(fmt.Errorf("read %s: %w", src, err))
			s.logGaps = addGap(s.logGaps, gap.Gap{Source: src, Reason: oneLine(err.Error())})
			continue
		}
		s.logsRead = append(s.logsRead, src)
		s.logGaps = append(s.logGaps, gaps.list()...)
	}
	return nil
}

// CheckLogs refuses, before anything is read, the log sources that cannot
// be: a local path that does not exist, an s3:// URL without a bucket.
func CheckLogs(sources []string) error {
	for _, src := range sources {
		switch {
		case strings.HasPrefix(src, "s3://"):
			if bucket, _, _ := strings.Cut(strings.TrimPrefix(src, "s3://"), "/"); bucket == "" {
				return fmt.Errorf("--logs %q: want s3://BUCKET/PREFIX, a directory or a file", src)
			}
		case src == "-":
		default:
			if _, err := os.Stat(src); err != nil {
				return fmt.Errorf("--logs: %w", err)
			}
		}
	}
	return nil
}

// fileGaps gathers what one log source skipped, one gap per file: the
// first reason and how many more things it skipped there.
type fileGaps struct {
	gaps []gap.Gap
	more []int
}

func (f *fileGaps) add(source string, err error) {
	g := gap.Gap{Source: source, Reason: oneLine(err.Error())}
	var re *cloudtrail.RecordError
	if errors.As(err, &re) {
		g = gap.Gap{Source: re.File, Reason: oneLine(re.Err.Error())}
		if re.Index >= 0 {
			g.Reason = fmt.Sprintf("corrupt at record %d: %s", re.Index, g.Reason)
		}
	}
	if i := slices.IndexFunc(f.gaps, func(x gap.Gap) bool { return x.Source == g.Source }); i >= 0 {
		f.more[i]++
		return
	}
	f.gaps, f.more = append(f.gaps, g), append(f.more, 0)
}

func (f *fileGaps) list() []gap.Gap {
	for i, n := range f.more {
		if n > 0 {
			f.gaps[i].Reason += fmt.Sprintf(" (and %d more skipped)", n)
		}
	}
	return f.gaps
}

func (s *Sources) warn(err error) {
	if s.Warn != nil {
		s.Warn(err)
	}
}

// isMinting reports whether e is an STS call whose answer carries new
// temporary credentials: how a temporary key's parent is found.
func isMinting(e cloudtrail.Event) bool {
	_, ok := minted(e)
	return ok
}

// mintedIt reports whether e minted the temporary key keyID.
func mintedIt(e cloudtrail.Event, keyID string) bool {
	m, ok := minted(e)
	return ok && m.KeyID == keyID
}
