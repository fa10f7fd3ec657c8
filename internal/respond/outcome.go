package respond

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/gap"
)

// StepStatus says how far one step of the playbook got.
type StepStatus string

const (
	StepDone       StepStatus = "done"
	StepPlanned    StepStatus = "planned"    // containment without --apply: nothing changed
	StepIncomplete StepStatus = "incomplete" // done, but some source could not be read (see Report.Incomplete)
	StepFailed     StepStatus = "failed"
	StepSkipped    StepStatus = "skipped" // not asked for, not needed, or an earlier step failed
)

// Step is what one step checked, applied or could not do.
type Step struct {
	Name   string     `json:"step"` // identify, assess, contain, review, replace
	Status StepStatus `json:"status"`
	Detail string     `json:"detail,omitempty"`
}

// step records the outcome of one step.
func (rep *Report) step(name string, status StepStatus, format string, args ...any) {
	rep.Steps = append(rep.Steps, Step{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
}

// unread records sources a step could not read: in Incomplete, once each,
// and as warnings.
func (rep *Report) unread(gaps ...gap.Gap) {
	for _, g := range gaps {
		if slices.Contains(rep.Incomplete, g) {
			continue
		}
		rep.Incomplete = append(rep.Incomplete, g)
		rep.Warnings = append(rep.Warnings, "not read: "+g.String())
	}
}

// addGap adds g to gaps unless its source is there already (the first
// reason stands: the same region fails the same way for every key).
func addGap(gaps []gap.Gap, g gap.Gap) []gap.Gap {
	if slices.ContainsFunc(gaps, func(x gap.Gap) bool { return x.Source == g.Source }) {
		return gaps
	}
	return append(gaps, g)
}

// oneLine keeps a reason on one line: SDK errors may carry response bodies.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// gapList words gaps for one line of text: "A (why); B (why)".
func gapList(gaps []gap.Gap) string {
	parts := make([]string, len(gaps))
	for i, g := range gaps {
		parts[i] = fmt.Sprintf("%s (%s)", g.Source, g.Reason)
	}
	return strings.Join(parts, "; ")
}
