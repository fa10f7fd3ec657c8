package report

import (
	"strings"
	"testing"
)

// TestEarlierReportsHostile: a baseline or an audit --diff file that is too
// large, nested without end, or not text fails with one reason that says
// what is wrong with it: a file past the bound is refused as too large, not
// as the JSON error of the place it was cut.
func TestEarlierReportsHostile(t *testing.T) {
	defer func(old int64) { maxReport = old }(maxReport)
	maxReport = 1 << 20
	finding := `{"fingerprint":"abc","check":"KW-X","severity":"low"},`
	tests := map[string]struct {
		in, says string
	}{
		"past the bound":         {"[" + strings.Repeat(finding, (2<<20)/len(finding)) + "]", "larger than the 512 MiB an earlier report may hold"},
		"jsonl past the bound":   {strings.Repeat(strings.TrimSuffix(finding, ",")+"\n", (2<<20)/len(finding)), "larger than the 512 MiB"},
		"nested without end":     {strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "exceeded max depth"},
		"NUL bytes":              {strings.Repeat("\x00", 100), "not a keywarden report: UTF-16 or UTF-32 text"},
		"utf-16 byte order mark": {"\xff\xfe[\x00]\x00", "not a keywarden report: UTF-16 or UTF-32 text"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadBaseline(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("ReadBaseline: %v; want an error saying %q", err, tc.says)
			}
			if _, err := ReadAuditReport(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("ReadAuditReport: %v; want an error saying %q", err, tc.says)
			}
		})
	}
}
