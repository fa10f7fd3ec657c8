package drill

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// drillAt is a finished drill whose every step passed but detect, st.
func drillAt(id string, start time.Time, ttd, ttc time.Duration, st Status) *Drill {
	d := &Drill{ID: id, Step: StepDone, Scenario: Seed001, Started: start,
		Detonations: []Detonation{{Call: Seed001.Calls[0], At: start}},
		FirstAlert:  start.Add(ttd), Contained: start.Add(ttc), Recovered: start.Add(ttc + time.Minute)}
	for _, step := range stepOrder {
		r := StepResult{Step: step, Status: Pass}
		if step == StepDetect {
			r.Status = st
		}
		d.Steps = append(d.Steps, r)
	}
	return d
}

func TestHistoryComparesEachDrillWithTheOneBefore(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	newer, older := drillAt("b", t0.Add(24*time.Hour), 4*time.Minute, 6*time.Minute, Pass), drillAt("a", t0, 9*time.Minute, 10*time.Minute, Fail)
	var out bytes.Buffer
	if err := WriteHistory(&out, []*Drill{newer, older}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ttd -5m0s, ttc -4m0s", "pass", "fail"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("history lacks %q:\n%s", want, out.String())
		}
	}
	var rep Report
	var js bytes.Buffer
	if err := Render(&js, "json", NewReport(newer, older)); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil || rep.Previous == nil || rep.Previous.TTD != "9m0s" || rep.TTD != "4m0s" || rep.Verdict != "pass" {
		t.Errorf("json report %+v (%v)", rep, err)
	}
	var h bytes.Buffer
	if err := Render(&h, "html", NewReport(newer, older)); err != nil || !strings.Contains(h.String(), "<pre># keywarden drill b: pass") {
		t.Errorf("html:\n%s", h.String())
	}
}

func TestVerdictOfAnOpenDrillIsIncomplete(t *testing.T) {
	d := drillAt("c", time.Now(), time.Minute, time.Minute, Pass)
	d.Step = StepContain
	if d.Verdict() != "incomplete" {
		t.Errorf("verdict %s", d.Verdict())
	}
	d.Steps = append(d.Steps, StepResult{Step: StepReview, Status: Skipped})
	d.Step = StepDone
	if d.Verdict() != "incomplete" {
		t.Errorf("a skipped step: verdict %s", d.Verdict())
	}
}

func TestLoadScenarioRefusesWhatADrillCannotMake(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("calls: [{service: ec2, action: RunInstances}]\n"), 0o600)
	if _, err := LoadScenario(bad); err == nil || !strings.Contains(err.Error(), "call ec2:RunInstances is not one a drill makes") {
		t.Errorf("err %v", err)
	}
	if s, err := LoadScenario("seed-001"); err != nil || len(s.Calls) != len(Seed001.Calls) {
		t.Errorf("seed-001: %v", err)
	}
}
