package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/report"
)

// readPrevious reads the earlier report of --diff. A report with no
// findings carries no as_of; its file time stands in, said on stderr.
func readPrevious(path string, stderr io.Writer) (audit.Previous, error) {
	f, err := os.Open(path)
	if err != nil {
		return audit.Previous{}, fmt.Errorf("--diff: %w", err)
	}
	defer f.Close()
	prev, err := report.ReadAuditReport(f)
	if err != nil {
		return audit.Previous{}, fmt.Errorf("--diff %s: %w", path, err)
	}
	if prev.AsOf.IsZero() {
		info, err := f.Stat()
		if err != nil {
			return audit.Previous{}, fmt.Errorf("--diff %s: %w", path, err)
		}
		prev.AsOf = info.ModTime()
		fmt.Fprintf(stderr, "note: %s does not say when it was judged (no findings, or an older keywarden): "+
			"users and keys created after its file time, %s, are listed as new\n", path, prev.AsOf.UTC().Format(time.RFC3339))
	}
	return prev, nil
}

// failingChanges are the kinds of change --fail-on judges: what is new or
// worse, not what was already known or has been fixed.
var failingChanges = []audit.ChangeKind{audit.NewlyStale, audit.NewFinding, audit.Worse}

// reportDiff writes what changed since prev and fails on new findings at
// or above --fail-on.
func reportDiff(opts auditOptions, deps Deps, prev audit.Previous, res auditResult) error {
	changes := audit.Diff(prev, res.inventories, res.findings)
	if err := writeAuditReport(opts, deps, report.DiffDocument(changes, prev.AsOf)); err != nil {
		return err
	}
	for _, c := range changes {
		if slices.Contains(failingChanges, c.Kind) && c.Finding.Severity >= opts.failOn {
			return errFindings
		}
	}
	return nil
}
