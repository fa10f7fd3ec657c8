package detect

import (
	"context"
	"errors"
	"fmt"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Engine runs the per-event rules and the stateful detectors over one
// event. Alert dedup and rate limits belong to the sinks, not here.
type Engine struct {
	Rules    []Rule
	Stateful []Detector

	byName map[string]candidates // by event name; built on first use
	anyEv  []int                 // rules without an Events list
}

// candidates are the rules an event name may fire.
type candidates struct {
	rules     []int
	readsResp bool // one of them reads response elements
}

// Flusher is a detector that buffers state and writes it to its Store on
// Flush; watch flushes together with each watermark commit, so a restart
// resumes from consistent state.
type Flusher interface {
	Flush(ctx context.Context) error
}

// NewEngine is the built-in catalogue plus the given stateful detectors.
func NewEngine(stateful ...Detector) *Engine {
	return &Engine{Rules: Rules(), Stateful: stateful}
}

func (en *Engine) index() {
	en.byName = map[string]candidates{}
	for i, r := range en.Rules {
		if r.Events == nil {
			en.anyEv = append(en.anyEv, i)
			continue
		}
		for _, n := range r.Events {
			c := en.byName[n]
			c.rules = append(c.rules, i)
			c.readsResp = c.readsResp || r.ReadsResp
			en.byName[n] = c
		}
	}
}

// Observe returns the alerts e raises: rules first, in catalogue order,
// then the stateful detectors'. A detector's error does not stop the
// others; errors are joined.
func (en *Engine) Observe(ctx context.Context, e *cloudtrail.Event) ([]Alert, error) {
	if en.byName == nil {
		en.index()
	}
	c, ok := en.byName[e.EventName]
	if !ok {
		c = en.byName[baseName(e.EventName)]
	}
	var req, resp map[string]any
	if len(c.rules) > 0 {
		req = Object(e.RequestParameters)
	}
	if c.readsResp {
		resp = Object(e.ResponseElements)
	}
	var out []Alert
	for _, idx := range [][]int{c.rules, en.anyEv} {
		for _, i := range idx {
			r := &en.Rules[i]
			if d, ok := r.Match(e, req, resp); ok {
				out = append(out, r.Alert(e, d))
			}
		}
	}
	var errs []error
	for _, d := range en.Stateful {
		as, err := d.Observe(ctx, e)
		out = append(out, as...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// Flush writes every buffered detector state to its Store.
func (en *Engine) Flush(ctx context.Context) error {
	var errs []error
	for _, d := range en.Stateful {
		if f, ok := d.(Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				errs = append(errs, fmt.Errorf("flush detector state: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}
