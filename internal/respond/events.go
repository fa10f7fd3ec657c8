package respond

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Lookup is CloudTrail's LookupEvents as the review reads it
// (cloudtrailaws.Lookup in AWS).
type Lookup interface {
	// Regions lists the account's enabled regions.
	Regions(ctx context.Context) ([]string, error)
	// KeyEvents hands sink the events made with the access key keyID in
	// regions from since on; what it skips goes to warn.
	KeyEvents(ctx context.Context, keyID string, regions []string, since time.Time, warn func(error), sink cloudtrail.Sink) error
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

	logs []cloudtrail.Event // kept: the exposed keys' and temporary keys' events (minted keys are found later)
	read bool
}

var _ EventSource = (*Sources)(nil)

// Events returns keyID's events since the given time, and the STS call
// that minted it when keyID is a temporary key.
func (s *Sources) Events(ctx context.Context, keyID string, since time.Time) ([]cloudtrail.Event, error) {
	var out []cloudtrail.Event
	seen := map[string]bool{}
	add := func(e cloudtrail.Event) error {
		mine := e.UserIdentity.AccessKeyID == keyID || mintedIt(e, keyID)
		if mine && !e.EventTime.Before(since) && (e.EventID == "" || !seen[e.EventID]) {
			seen[e.EventID] = true
			out = append(out, e)
		}
		return nil
	}
	if err := s.readLogs(ctx, keyID, since); err != nil {
		return nil, err
	}
	for _, e := range s.logs {
		_ = add(e)
	}
	if s.Lookup != nil {
		if err := s.lookup(ctx, keyID, since, add); err != nil {
			return out, fmt.Errorf("lookup events: %w", err)
		}
	}
	return out, nil
}

// lookup reads keyID's events from LookupEvents, in every enabled region
// unless Regions names some (listed once, for every key).
func (s *Sources) lookup(ctx context.Context, keyID string, since time.Time, sink cloudtrail.Sink) error {
	if s.Regions == nil {
		regions, err := s.Lookup.Regions(ctx)
		if err != nil {
			return err
		}
		s.Regions = regions
	}
	return s.Lookup.KeyEvents(ctx, keyID, s.Regions, since, s.warn, sink)
}

// readLogs reads every log source once, keeping the events of the exposed
// keys, of temporary keys (which they may have minted) and the STS calls
// that minted temporary keys (which may have minted them).
func (s *Sources) readLogs(ctx context.Context, keyID string, since time.Time) error {
	if s.read {
		return nil
	}
	s.read = true
	opts := cloudtrail.Options{Since: since, Warn: s.warn}
	for _, src := range s.Logs {
		err := cloudtrail.ReadFrom(ctx, src, opts, s.Objects, func(e cloudtrail.Event) error {
			if k := e.UserIdentity.AccessKeyID; k == keyID || slices.Contains(s.Keys, k) || strings.HasPrefix(k, "ASIA") || isMinting(e) {
				s.logs = append(s.logs, e)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", src, err)
		}
	}
	return nil
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
