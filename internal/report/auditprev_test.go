package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
)

func TestReadAuditReportReadsBackJSONAndJSONL(t *testing.T) {
	findings := auditFindings()
	for _, format := range []string{"json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, AuditDocument(findings), Options{}); err != nil {
				t.Fatal(err)
			}
			prev, err := ReadAuditReport(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !prev.AsOf.Equal(findings[0].AsOf) {
				t.Errorf("as_of: want %v, got %v", findings[0].AsOf, prev.AsOf)
			}
			// Read back, every finding is the same finding to Diff: no changes.
			if got := audit.Diff(prev, nil, findings); len(got) != 0 {
				t.Errorf("want no changes against itself, got %d, first %+v", len(got), got[0])
			}
			if diff := cmp.Diff(len(findings), len(prev.Findings)); diff != "" {
				t.Errorf("findings read (-want +got): %s", diff)
			}
		})
	}
}

func TestReadAuditReportRejectsOtherFiles(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "  \n", "empty"},
		{"a scan report", `[{"rule":"aws-access-key-id","severity":"medium"}]`, `no "check"`},
		{"not json", "check,title\n", "not a keywarden audit json or jsonl report"},
		{"a bad severity", `{"check":"KW-KEY-AGE","severity":"dire"}`, "dire"},
		{"a bad as_of", `{"check":"KW-KEY-AGE","severity":"low","as_of":"yesterday"}`, "as_of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAuditReport(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("want an error containing %q, got %v", tt.want, err)
			}
		})
	}
}
