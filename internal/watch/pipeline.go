// Package watch runs CloudTrail events through the detectors and sends the
// alerts they raise to sinks, once: the pipeline behind `keywarden watch`
// and `keywarden lambda`, and the poll loop of `keywarden watch` (Watch).
package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

// AlertFilter drops alerts already sent (dedup). Forget lets alerts that
// could not be delivered through again: the events that raised them are
// read again on the next run, since the cursor did not move.
type AlertFilter interface {
	Filter(ctx context.Context, alerts []detect.Alert) ([]detect.Alert, error)
	Forget(ctx context.Context, alerts []detect.Alert) error
}

// Pipeline judges events and delivers the alerts.
type Pipeline struct {
	Detector detect.Detector
	Filter   AlertFilter // nil: every alert is sent
	Sinks    []Sink
	// MinSeverity drops alerts below it before delivery (Lambda's
	// KEYWARDEN_FAIL_ON); the zero value keeps them all.
	MinSeverity severity.Level
	// OnAlert, when set, sees every alert sent (--respond RULE=contain).
	OnAlert func(ctx context.Context, a detect.Alert) error

	worst  severity.Level
	alerts int
	rules  map[string]bool // the ids of the rules its detectors raise (NewPipeline)
}

// batchSize is how many events are judged together: a source is judged as
// it is read, so memory stays flat however large it is (a CloudTrail log
// file can hold tens of thousands of records, and Lambda memory is paid
// for), and a batch is sorted by time before it is judged.
const batchSize = 5000

// Read hands a source's events to sink, in the order read; an error from
// sink ends the read with that error.
type Read func(ctx context.Context, sink cloudtrail.Sink) error

// Judge is one pass over a source (a watch poll, a Lambda invocation's
// object): it judges the events read hands over in batches as they come,
// then commits what the detectors learned. It returns how many events were
// read.
func (p *Pipeline) Judge(ctx context.Context, read Read) (int, error) {
	var batch []cloudtrail.Event
	n := 0
	err := read(ctx, func(e cloudtrail.Event) error {
		batch = append(batch, e)
		n++
		if len(batch) < batchSize {
			return nil
		}
		err := p.Process(ctx, batch)
		batch = batch[:0] // Process keeps nothing of a batch
		return err
	})
	if err == nil {
		err = p.Process(ctx, batch)
	}
	if err == nil {
		err = p.Commit(ctx)
	}
	return n, err
}

// Process judges events in time order and sends what they raise. An
// error from a sink is returned after every sink was tried.
func (p *Pipeline) Process(ctx context.Context, events []cloudtrail.Event) error {
	var raised []detect.Alert
	for _, i := range timeOrder(events) {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := &events[i]
		as, err := p.Detector.Observe(ctx, e)
		if err != nil {
			return fmt.Errorf("judge event %s: %w", e.EventID, err)
		}
		raised = append(raised, as...)
	}
	return p.deliver(ctx, raised)
}

// Raise delivers alerts that come from outside the event stream (the SES
// volume poller), through the same dedup and sinks.
func (p *Pipeline) Raise(ctx context.Context, alerts []detect.Alert) error {
	return p.deliver(ctx, alerts)
}

func (p *Pipeline) deliver(ctx context.Context, alerts []detect.Alert) error {
	if p.MinSeverity > 0 {
		alerts = slices.DeleteFunc(alerts, func(a detect.Alert) bool { return a.Severity < p.MinSeverity })
	}
	if p.Filter != nil && len(alerts) > 0 {
		var err error
		if alerts, err = p.Filter.Filter(ctx, alerts); err != nil {
			return fmt.Errorf("dedup alerts: %w", err)
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	for _, a := range alerts {
		p.alerts++
		p.worst = max(p.worst, a.Severity)
	}
	var firstErr error
	for _, s := range p.Sinks {
		if err := s.Send(ctx, alerts); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil && p.Filter != nil {
		if err := p.Filter.Forget(ctx, alerts); err != nil {
			return fmt.Errorf("%w (and forgetting the undelivered alerts failed: %v)", firstErr, err)
		}
		return firstErr
	}
	if p.OnAlert != nil {
		for _, a := range alerts {
			if err := p.OnAlert(ctx, a); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// Worst is the highest severity sent so far, and how many alerts were.
func (p *Pipeline) Worst() (severity.Level, int) { return p.worst, p.alerts }

// Commit saves what the detectors learned (baselines, bursts) with the
// cursor that says which events they have seen.
func (p *Pipeline) Commit(ctx context.Context) error {
	if f, ok := p.Detector.(detect.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("save detector state: %w", err)
		}
	}
	return nil
}

// Flush sends what sinks hold back (a rate limit's summary of a finished
// minute): a --follow loop calls it between polls. Sinks that hold nothing
// back have no Flush.
func (p *Pipeline) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range p.Sinks {
		if f, ok := s.(interface{ Flush(context.Context) error }); ok {
			errs = append(errs, f.Flush(ctx))
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink: a rate limit sends its pending summary, a file
// is closed, a JSON array ends.
func (p *Pipeline) Close() error {
	var errs []error
	for _, s := range p.Sinks {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// timeOrder is the indexes of events in time order (stable). Records are
// large: sorting indexes moves 8 bytes, not a whole record, per swap.
func timeOrder(events []cloudtrail.Event) []int {
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	// Ties go by position, so the order is stable; pdqsort with that
	// tie-break is faster than a stable sort, and log files arrive nearly
	// sorted, which pdqsort notices.
	slices.SortFunc(order, func(a, b int) int {
		if c := events[a].EventTime.Compare(events[b].EventTime); c != 0 {
			return c
		}
		return a - b
	})
	return order
}
