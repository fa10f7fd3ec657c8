package watch

import (
	"context"
	"fmt"

	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/detect"
)

// CanaryPoller runs the canaries' unlogged-call check (canary check) on
// every poll of a followed watch, and in Lambda on its schedule.
type CanaryPoller struct {
	Check canary.Check
	// Load reads the canaries with their baselines; Save writes the
	// baselines that moved.
	Load func(ctx context.Context) ([]canary.Canary, error)
	Save func(ctx context.Context, cs []canary.Canary) error
	// Warn hears of each canary that could not be read.
	Warn func(error)
}

// Poll checks every canary and hands raise an alert for each unlogged
// use; the baselines are saved only once raise delivered them, so an alert
// that could not be sent is raised again by the next poll.
func (p *CanaryPoller) Poll(ctx context.Context, raise func(context.Context, []detect.Alert) error) error {
	cs, err := p.Load(ctx)
	if err != nil || len(cs) == 0 {
		return err
	}
	rep, err := p.Check.Run(ctx, cs)
	if err != nil {
		return err
	}
	for _, g := range rep.Gaps {
		if p.Warn != nil {
			p.Warn(fmt.Errorf("%s: %s", g.Source, g.Reason))
		}
	}
	var alerts []detect.Alert
	for _, r := range rep.Results {
		if r.Status == canary.Unlogged {
			alerts = append(alerts, detect.UnloggedAlert(r))
		}
	}
	if len(alerts) > 0 {
		if err := raise(ctx, alerts); err != nil {
			return err
		}
	}
	if len(rep.Changed) == 0 {
		return nil
	}
	return p.Save(ctx, rep.Changed)
}
