package watch

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
)

// seen records the order in which events are judged.
type seen []string

func (s *seen) Observe(ctx context.Context, e *cloudtrail.Event) ([]detect.Alert, error) {
	*s = append(*s, e.EventID)
	return nil, nil
}

func TestProcessJudgesInTimeOrderKeepingTies(t *testing.T) {
	at := func(id string, minute int) cloudtrail.Event {
		return cloudtrail.Event{EventID: id, EventTime: time.Date(2026, 11, 21, 10, minute, 0, 0, time.UTC)}
	}
	// Ties in the order read: a record without eventTime (zero) first.
	events := []cloudtrail.Event{at("c1", 3), at("a1", 1), at("c2", 3), {EventID: "z"}, at("b", 2), at("a2", 1), at("c3", 3)}
	var order seen
	p := &Pipeline{Detector: &order}
	if err := p.Process(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seen{"z", "a1", "a2", "b", "c1", "c2", "c3"}, order); diff != "" {
		t.Errorf("judged (-want +got):\n%s", diff)
	}
}
