package drill

import (
	"fmt"
	"slices"
	"time"
)

// Timeline is a scenario's expected timeline. A step over its budget
// fails, with the time measured and the budget: the detect step over
// Detect (time to detect), contain over Contain (time to contain),
// cleanup over Recover (time to recover), any step over its own deadline
// in Steps (its own duration). A zero budget is not checked.
type Timeline struct {
	Detect  time.Duration            `json:"detect,omitempty" yaml:"detect"`
	Contain time.Duration            `json:"contain,omitempty" yaml:"contain"`
	Recover time.Duration            `json:"recover,omitempty" yaml:"recover"`
	Steps   map[string]time.Duration `json:"steps,omitempty" yaml:"steps"`
}

// Budget is one budget of a timeline, and what the drill measured.
type Budget struct {
	What     string `json:"what"` // "time to detect", ..., or "step leak"
	Expected string `json:"expected"`
	Measured string `json:"measured,omitempty"` // "": not measured (the step did not run, or nothing was detected)
	Within   bool   `json:"within"`
}

// stepOrder are a drill's steps in the order they run.
var stepOrder = []string{StepCreate, StepLeak, StepDetonate, StepDetect, StepContain, StepReview, StepCleanup}

// measure is the time a timeline budgets at the end of a step.
type measure struct {
	name      string
	want, got time.Duration
}

func (d *Drill) measures() map[string]measure {
	tl := d.Scenario.Timeline
	return map[string]measure{StepDetect: {"detect", tl.Detect, d.TTD()}, StepContain: {"contain", tl.Contain, d.TTC()},
		StepCleanup: {"recover", tl.Recover, d.TTR()}}
}

// Budgets are the timeline's budgets against d's measures, in step order.
func (d *Drill) Budgets() []Budget {
	tl := d.Scenario.Timeline
	if tl == nil {
		return nil
	}
	var out []Budget
	add := func(what string, want, got time.Duration) {
		if want <= 0 {
			return
		}
		b := Budget{What: what, Expected: want.String(), Within: got > 0 && got <= want}
		if got > 0 {
			b.Measured = got.Round(time.Millisecond).String()
		}
		out = append(out, b)
	}
	ms := d.measures()
	for _, step := range []string{StepDetect, StepContain, StepCleanup} {
		add("time to "+ms[step].name, ms[step].want, ms[step].got)
	}
	for _, step := range stepOrder {
		var took time.Duration
		for _, s := range d.Steps {
			if s.Step == step && !s.Ended.IsZero() {
				took = max(s.Ended.Sub(s.Started), time.Nanosecond) // a step of no time on the clock still ran
			}
		}
		add("step "+step, tl.Steps[step], took)
	}
	return out
}

// overBudget is why step r, just ended, is over a budget of d's timeline:
// its own deadline, or the measure it ends (TTD, TTC, TTR).
func (d *Drill) overBudget(r *StepResult) []string {
	tl := d.Scenario.Timeline
	if tl == nil || r.Status == Skipped {
		return nil
	}
	var out []string
	if want := tl.Steps[r.Step]; want > 0 {
		if took := r.Ended.Sub(r.Started); took > want {
			out = append(out, fmt.Sprintf("step %s took %s, over its budget of %s (timeline steps.%s)", r.Step, took.Round(time.Millisecond), want, r.Step))
		}
	}
	if m, ok := d.measures()[r.Step]; ok && m.want > 0 && m.got > m.want {
		out = append(out, fmt.Sprintf("time to %s %s, over its budget of %s (timeline %s)", m.name, m.got.Round(time.Millisecond), m.want, m.name))
	}
	return out
}

// check refuses a timeline budget that is not a positive duration or a
// deadline for a step a drill has not.
func (tl *Timeline) check() error {
	if tl == nil {
		return nil
	}
	for name, v := range map[string]time.Duration{"detect": tl.Detect, "contain": tl.Contain, "recover": tl.Recover} {
		if v < 0 {
			return fmt.Errorf("timeline %s %s: want a positive duration such as 15m", name, v)
		}
	}
	for step, v := range tl.Steps {
		if !slices.Contains(stepOrder, step) {
			return fmt.Errorf("timeline steps.%s: no such step (want one of create, leak, detonate, detect, contain, review, cleanup)", step)
		}
		if v <= 0 {
			return fmt.Errorf("timeline steps.%s %s: want a positive duration such as 30s", step, v)
		}
	}
	return nil
}
