package drill

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
)

// Report is a drill as --format json prints it.
type Report struct {
	ID       string       `json:"id"`
	State    string       `json:"state"` // the journal's last step
	Verdict  string       `json:"verdict"`
	Account  string       `json:"account"`
	Scenario string       `json:"scenario"`
	User     string       `json:"user"`
	KeyID    string       `json:"key_id,omitempty"`
	Source   string       `json:"source,omitempty"`
	Alerts   string       `json:"alerts,omitempty"` // the team's watch's jsonl sink, when detect read it
	Started  time.Time    `json:"started"`
	Steps    []StepResult `json:"steps"`
	Calls    []Detonation `json:"detonations"`
	TTD      string       `json:"time_to_detect,omitempty"`
	// TTN is time to notify; NotNotified why it was not measured.
	TTN         string `json:"time_to_notify,omitempty"`
	NotNotified string `json:"time_to_notify_not_measured,omitempty"`
	TTC         string `json:"time_to_contain,omitempty"`
	TTR         string `json:"time_to_recover,omitempty"`
	Incident    string `json:"incident,omitempty"`
	// ContainBy is who contained the key: drill, watch or team.
	ContainBy string `json:"contain_by,omitempty"`
	// Expected is the scenario's expected timeline, each budget with the
	// time measured.
	Expected []Budget `json:"expected,omitempty"`
	AWSCalls int      `json:"aws_calls"`
	// Previous compares with the drill before this one, when there is one.
	Previous *Comparison `json:"previous,omitempty"`
}

// Comparison is how a drill's times moved since the one before.
type Comparison struct {
	ID      string `json:"id"`
	Verdict string `json:"verdict"`
	TTD     string `json:"time_to_detect,omitempty"`
	TTN     string `json:"time_to_notify,omitempty"`
	TTC     string `json:"time_to_contain,omitempty"`
	TTR     string `json:"time_to_recover,omitempty"`
}

// Verdict is pass, fail, or incomplete (a step skipped, or the drill open).
func (d *Drill) Verdict() string {
	switch {
	case d.Failed():
		return "fail"
	case d.Passed() && d.Step == StepDone:
		return "pass"
	}
	return "incomplete"
}

func dur(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.Round(time.Millisecond).String()
}

// NewReport is d's report, compared with prev (nil: none).
func NewReport(d, prev *Drill) Report {
	r := Report{ID: d.ID, State: d.Step, Verdict: d.Verdict(), Account: d.Account, Scenario: d.Scenario.Name, User: d.User,
		KeyID: d.KeyID, Source: d.Source, Alerts: d.Alerts, Started: d.Started, Steps: d.Steps, Calls: d.Detonations,
		TTD: dur(d.TTD()), TTN: dur(d.TTN()), NotNotified: d.NotNotified(), TTC: dur(d.TTC()), TTR: dur(d.TTR()), Incident: d.Incident, ContainBy: d.ContainBy, Expected: d.Budgets(), AWSCalls: d.Calls}
	if r.Steps == nil {
		r.Steps = []StepResult{}
	}
	if r.Calls == nil {
		r.Calls = []Detonation{}
	}
	if prev != nil {
		r.Previous = &Comparison{ID: prev.ID, Verdict: prev.Verdict(), TTD: dur(prev.TTD()), TTN: dur(prev.TTN()), TTC: dur(prev.TTC()), TTR: dur(prev.TTR())}
	}
	return r
}

// Render writes r as md, json or html.
func Render(w io.Writer, format string, r Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "html":
		_, err := fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>keywarden drill %s</title></head><body>\n<pre>%s</pre>\n</body></html>\n",
			html.EscapeString(r.ID), html.EscapeString(r.Markdown()))
		return err
	}
	_, err := io.WriteString(w, r.Markdown())
	return err
}

// Markdown is r as a Markdown report: verdict, times, steps, timeline.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# keywarden drill %s: %s\n\n", r.ID, r.Verdict)
	fmt.Fprintf(&b, "Scenario %s in account %s, drill user %s (key %s), watch source %s", r.Scenario, r.Account, r.User, r.KeyID, orNone(r.Source))
	if r.Alerts != "" {
		fmt.Fprintf(&b, ", alerts read from the team's watch in %s", r.Alerts)
		if strings.HasPrefix(r.Alerts, "sns:") {
			b.WriteString(" (through a queue of the drill's own, subscribed for the drill's life)")
		}
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "| measure | this drill | previous |\n|---|---|---|\n")
	prev := Comparison{}
	if r.Previous != nil {
		prev = *r.Previous
	}
	fmt.Fprintf(&b, "| time to detect | %s | %s |\n", orNone(r.TTD), orNone(prev.TTD))
	ttn := r.TTN
	if ttn == "" {
		ttn = "not measured: " + r.NotNotified
	}
	fmt.Fprintf(&b, "| time to notify | %s | %s |\n", ttn, orNone(prev.TTN))
	fmt.Fprintf(&b, "| time to contain | %s | %s |\n", orNone(r.TTC), orNone(prev.TTC))
	fmt.Fprintf(&b, "| time to recover | %s | %s |\n", orNone(r.TTR), orNone(prev.TTR))
	if r.Previous != nil {
		fmt.Fprintf(&b, "\nPrevious drill: %s (%s).\n", prev.ID, prev.Verdict)
	}
	if who, ok := containers[r.ContainBy]; ok {
		fmt.Fprintf(&b, "\nContainment: %s.\n", who)
	}
	if len(r.Expected) > 0 {
		b.WriteString("\n## Expected timeline\n\n| budget | expected | measured | verdict |\n|---|---|---|---|\n")
		for _, x := range r.Expected {
			verdict := "within"
			if !x.Within {
				verdict = "over"
				if x.Measured == "" {
					verdict = "not measured"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.What, x.Expected, orNone(x.Measured), verdict)
		}
	}
	b.WriteString("\n## Steps\n\n")
	for i, s := range r.Steps {
		fmt.Fprintf(&b, "%d. **%s**: %s (%s)\n", i+1, s.Step, s.Status, s.Ended.Sub(s.Started).Round(time.Millisecond))
		for _, e := range s.Evidence {
			fmt.Fprintf(&b, "   - %s\n", e)
		}
	}
	if r.State != StepDone {
		fmt.Fprintf(&b, "\nThe drill stopped at %s: 'keywarden drill cleanup %s' removes what it made.\n", r.State, r.ID)
	}
	b.WriteString("\n## Timeline\n\n")
	for _, c := range r.Calls {
		what := "allowed"
		if !c.Allowed {
			what = "denied " + c.Error
		}
		fmt.Fprintf(&b, "- %s %s by %s: %s\n", c.At.UTC().Format(time.RFC3339), c.Call, c.KeyID, what)
	}
	fmt.Fprintf(&b, "\nThe drill's own AWS calls: %d.\n", r.AWSCalls)
	return b.String()
}

// containers say who contained the key, by Drill.ContainBy.
var containers = map[string]string{ContainByDrill: "the drill (keywarden respond --apply)", ContainByWatch: "watch's --respond RULE=contain, in the detect step",
	ContainByTeam: "the team's own watch (the drill waited for the key to be Inactive)"}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteHistory lists drills newest first, one line each, with the change
// of each time against the drill before it.
func WriteHistory(w io.Writer, drills []*Drill) error {
	if len(drills) == 0 {
		_, err := fmt.Fprintln(w, "no drill journaled")
		return err
	}
	fmt.Fprintf(w, "%-28s %-13s %-11s %-10s %-8s %-8s %-8s %-8s %s\n", "ID", "SCENARIO", "VERDICT", "STATE", "TTD", "TTN", "TTC", "TTR", "VS PREVIOUS")
	for i, d := range drills {
		vs := "-"
		if i+1 < len(drills) {
			p := drills[i+1]
			vs = fmt.Sprintf("ttd %s, ttc %s, ttn %s", delta(d.TTD(), p.TTD()), delta(d.TTC(), p.TTC()), delta(d.TTN(), p.TTN()))
		}
		fmt.Fprintf(w, "%-28s %-13s %-11s %-10s %-8s %-8s %-8s %-8s %s\n", d.ID, d.Scenario.Name, d.Verdict(), d.Step,
			orNone(dur(d.TTD())), orNone(dur(d.TTN())), orNone(dur(d.TTC())), orNone(dur(d.TTR())), vs)
	}
	return nil
}

func delta(now, before time.Duration) string {
	if now == 0 || before == 0 {
		return "n/a"
	}
	if now >= before {
		return "+" + (now - before).Round(time.Millisecond).String()
	}
	return "-" + (before - now).Round(time.Millisecond).String()
}
