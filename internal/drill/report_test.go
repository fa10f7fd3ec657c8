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

// TestTimeToNotifyIsMeasuredOnlyWhereTheSinkSaysWhen: SNS's delivery time
// gives the TTN, in md, json, history and the comparison; every other case
// says why it is not measured.
func TestTimeToNotifyIsMeasuredOnlyWhereTheSinkSaysWhen(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	topic := "arn:aws:sns:eu-west-1:123456789012:alerts"
	newer, older := drillAt("b", t0.Add(time.Hour), 4*time.Minute, 6*time.Minute, Pass), drillAt("a", t0, 9*time.Minute, 10*time.Minute, Pass)
	for _, d := range []*Drill{newer, older} {
		q := NewQueue(topic, "123456789012", d.ID)
		d.Queue, d.Alerts = &q, "sns:"+topic
	}
	newer.Notified, older.Notified = newer.FirstCall().Add(3*time.Minute), older.FirstCall().Add(8*time.Minute)
	md := NewReport(newer, older).Markdown()
	if !strings.Contains(md, "| time to notify | 3m0s | 8m0s |") {
		t.Errorf("md:\n%s", md)
	}
	var h bytes.Buffer
	if err := WriteHistory(&h, []*Drill{newer, older}); err != nil || !strings.Contains(h.String(), " 4m0s     3m0s     6m0s ") || !strings.Contains(h.String(), "ttn -5m0s") {
		t.Errorf("history:\n%s", h.String())
	}
	var rep Report
	var js bytes.Buffer
	if err := Render(&js, "json", NewReport(newer, older)); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil || rep.TTN != "3m0s" || rep.NotNotified != "" || rep.Previous.TTN != "8m0s" {
		t.Errorf("json %+v (%v)", rep, err)
	}
	skewed := drillAt("s", t0, time.Minute, time.Minute, Pass)
	skewed.Queue, skewed.Notified = newer.Queue, t0.Add(-time.Second)
	jsonl := drillAt("j", t0, time.Minute, time.Minute, Pass)
	jsonl.Alerts = "alerts.jsonl"
	unseen := drillAt("u", t0, 0, time.Minute, Fail)
	unseen.FirstAlert = time.Time{}
	for d, want := range map[*Drill]string{
		skewed: "the sink's delivery time precedes the first call: this machine's clock and AWS's disagree",
		jsonl:  "watch's jsonl sink writes no delivery time",
		drillAt("w", t0, time.Minute, time.Minute, Pass): "the drill's own watch raised the alerts: no sink delivered them",
		unseen: "no expected alert was seen",
	} {
		if d.TTN() != 0 || d.NotNotified() != want || !strings.Contains(NewReport(d, nil).Markdown(), "| time to notify | not measured: "+want+" | - |") {
			t.Errorf("%s: TTN %s, why %q, want %q", d.ID, d.TTN(), d.NotNotified(), want)
		}
	}
}

func TestNewQueueIsBesideItsTopic(t *testing.T) {
	q := NewQueue("arn:aws-cn:sns:cn-north-1:111122223333:alerts", "444455556666", "x1")
	if q.Name != "keywarden-drill-x1" || q.ARN != "arn:aws-cn:sqs:cn-north-1:444455556666:keywarden-drill-x1" {
		t.Errorf("%+v", q)
	}
	if p := QueuePolicy(q); !strings.Contains(p, `"aws:SourceArn":"arn:aws-cn:sns:cn-north-1:111122223333:alerts"`) || !strings.Contains(p, `"Resource":"arn:aws-cn:sqs:cn-north-1:444455556666:keywarden-drill-x1"`) {
		t.Errorf("policy %s", p)
	}
}
