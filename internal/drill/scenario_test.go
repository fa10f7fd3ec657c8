package drill

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScenarioYAMLTimeline: a scenario's expected timeline is read from
// YAML with Go durations; a bad one is refused in one line naming the file
// and what is wrong.
func TestScenarioYAMLTimeline(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const calls = "calls:\n  - {service: sts, action: GetCallerIdentity}\n"
	s, err := LoadScenario(write("name: budgets\n" + calls + "timeline:\n  detect: 15m\n  contain: 20m\n  recover: 30m\n  steps: {leak: 30s, detect: 16m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tl := s.Timeline; tl == nil || tl.Detect != 15*time.Minute || tl.Contain != 20*time.Minute || tl.Recover != 30*time.Minute ||
		tl.Steps["leak"] != 30*time.Second || tl.Steps["detect"] != 16*time.Minute {
		t.Fatalf("timeline %+v", s.Timeline)
	}
	for body, want := range map[string]string{
		calls + "timeline:\n  detect: 15\n":         "--scenario " + filepath.Join(dir, "s.yaml") + ": line 4: cannot unmarshal !!int `15`: want a duration such as 15m",
		calls + "timeline:\n  detect: soon\n":       "--scenario " + filepath.Join(dir, "s.yaml") + ": line 4: cannot unmarshal !!str `soon`: want a duration such as 15m",
		calls + "timline:\n  detect: 15m\n":         "--scenario " + filepath.Join(dir, "s.yaml") + ": line 3: unknown field timline",
		calls + "timeline:\n  steps: {exfil: 1m}\n": "--scenario " + filepath.Join(dir, "s.yaml") + ": timeline steps.exfil: no such step (want one of create, leak, detonate, detect, contain, review, cleanup)",
		calls + "timeline:\n  steps: {leak: 0s}\n":  "--scenario " + filepath.Join(dir, "s.yaml") + ": timeline steps.leak 0s: want a positive duration such as 30s",
		calls + "timeline:\n  contain: -5m\n":       "--scenario " + filepath.Join(dir, "s.yaml") + ": timeline contain -5m0s: want a positive duration such as 15m",
		calls + "calls: [\n":                        "--scenario " + filepath.Join(dir, "s.yaml") + ": line 3: did not find expected node content",
		calls + "leak: laptop\nexpose_git: true\n":  "--scenario " + filepath.Join(dir, "s.yaml") + ": expose_git needs a repository: leak laptop has none (want repo-history or ci-workflow)",
	} {
		_, err := LoadScenario(write(body))
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", body, err, want)
		}
	}
}
