package drill

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAlertLogReadsTheDrillsAlerts: the team's jsonl sink holds alerts on
// other keys and a line being written; only the drill key's and its
// session's are the drill's, the torn line is skipped and said; a file not
// written yet holds none.
func TestAlertLogReadsTheDrillsAlerts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "alerts.jsonl")
	var warned []string
	l := AlertLog{Path: file, Warn: func(err error) { warned = append(warned, err.Error()) }}
	// built, not written: no key id literal for keywarden scan to find
	key, other, session := "AKIA"+strings.Repeat("D", 16), "AKIA"+strings.Repeat("O", 16), "ASIA"+strings.Repeat("D", 16)
	d := &Drill{KeyID: key, SessionKeyID: session}
	if got, err := l.Alerts(context.Background(), d); err != nil || len(got) != 0 {
		t.Fatalf("no file yet: %v %v", got, err)
	}
	lines := []string{
		`{"rule":"KW-CT-SES-RECON","severity":"medium","access_key_id":"` + key + `"}`,
		`{"rule":"KW-CT-RECON-LIST","severity":"low","access_key_id":"` + other + `"}`,
		`{"rule":"KW-CT-STS-SESSION-FROM-KEY","severity":"medium","access_key_id":"` + session + `"}`,
		`{"rule":"KW-CT-SES-REC`,
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := l.Alerts(context.Background(), d)
	if err != nil || len(got) != 2 || got[0].Rule != "KW-CT-SES-RECON" || got[1].Rule != "KW-CT-STS-SESSION-FROM-KEY" {
		t.Fatalf("alerts %+v, %v", got, err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "line 4 skipped") {
		t.Errorf("warnings %q", warned)
	}
}
