package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
)

// Lateness is how late CloudTrail may deliver an event after its time
// (AWS says typically within 15 minutes): a poll re-reads this far behind
// its watermark and skips the events it has already judged.
const Lateness = time.Hour

// cursor is what a followed source has been read up to, persisted so a
// restart neither skips nor repeats: the newest event time judged, and the
// ids of the events judged within Lateness of it.
type cursor struct {
	Watermark time.Time            `json:"watermark"`
	Seen      map[string]time.Time `json:"seen"` // event id -> event time
}

const cursorNamespace = "watch-cursor"

// loadCursor reads the cursor of source; a new source starts empty.
func loadCursor(ctx context.Context, store detect.Store, source string) (*cursor, error) {
	c := &cursor{Seen: map[string]time.Time{}}
	raw, ok, err := store.Get(ctx, cursorNamespace, source)
	if err != nil || !ok {
		return c, err
	}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("read the cursor of %s: %w", source, err)
	}
	if c.Seen == nil {
		c.Seen = map[string]time.Time{}
	}
	return c, nil
}

// since is where the next read starts: Lateness before the watermark.
func (c *cursor) since() time.Time {
	if c.Watermark.IsZero() {
		return time.Time{}
	}
	return c.Watermark.Add(-Lateness)
}

// fresh passes sink the events not judged yet, and records them as judged.
func (c *cursor) fresh(sink cloudtrail.Sink) cloudtrail.Sink {
	return func(e cloudtrail.Event) error {
		id := e.EventID
		if id == "" {
			id = e.EventTime.String() + e.EventName + e.UserIdentity.AccessKeyID
		}
		if _, seen := c.Seen[id]; seen {
			return nil
		}
		c.Seen[id] = e.EventTime
		if e.EventTime.After(c.Watermark) {
			c.Watermark = e.EventTime
		}
		return sink(e)
	}
}

// save prunes ids too old to be read again and persists the cursor.
func (c *cursor) save(ctx context.Context, store detect.Store, source string) error {
	floor := c.since().Add(-Lateness)
	for id, t := range c.Seen {
		if t.Before(floor) {
			delete(c.Seen, id)
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := store.Put(ctx, cursorNamespace, source, raw); err != nil {
		return fmt.Errorf("save the cursor of %s: %w", source, err)
	}
	return nil
}
