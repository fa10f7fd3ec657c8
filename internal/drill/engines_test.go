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

// TestSessionVerdict: the session minted before containment passes only
// when it worked before and is refused after; working after fails the
// step; refused before proves nothing and says so.
func TestSessionVerdict(t *testing.T) {
	ok, denied := CallResult{Allowed: true}, CallResult{Code: "AccessDenied"}
	for _, c := range []struct {
		name          string
		before, after CallResult
		failed        bool
		says          string
	}{
		{"revoked", ok, denied, false, "minted before containment is refused (AccessDenied)"},
		{"still works", ok, ok, true, "minted before containment still works"},
		{"never worked", denied, CallResult{}, false, "refused before containment already (AccessDenied): its revocation is not proven"},
	} {
		failed, why := sessionVerdict("ASIA-SESSION", c.before, c.after)
		if failed != c.failed || !strings.Contains(why, c.says) {
			t.Errorf("%s: failed %v %q, want %v and %q", c.name, failed, why, c.failed, c.says)
		}
	}
}
