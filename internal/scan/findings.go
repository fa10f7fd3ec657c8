package scan

import (
	"cmp"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

// MergeWorkTree joins a repository's history findings and the findings in
// the files of its work tree, scanned from root, leaving out each file
// finding the history already reports (the same key at the same repository
// path): the history's names the commit too.
func MergeWorkTree(root string, history, files []Finding) []Finding {
	prefix := path.Clean(filepath.ToSlash(root)) + "/"
	if prefix == "./" {
		prefix = ""
	}
	seen := make(map[string]bool, len(history))
	for _, f := range history {
		seen[Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, f.Path)] = true
	}
	out := slices.Clip(history)
	for _, f := range files {
		rel := strings.TrimPrefix(f.Path, prefix)
		if !seen[Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, rel)] {
			out = append(out, f)
		}
	}
	return out
}

// DropBaselined leaves out, in place, the findings whose fingerprint is in
// baseline (an earlier report's): what remains is new since it.
func DropBaselined(findings []Finding, baseline map[string]bool) []Finding {
	if len(baseline) == 0 {
		return findings
	}
	return slices.DeleteFunc(findings, func(f Finding) bool { return baseline[f.Fingerprint] })
}

// Sort orders findings by source, path, commit, line, column and rule, so
// that a scan's output is the same on every run whatever the scheduling.
func Sort(findings []Finding) {
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Commit, b.Commit),
			cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), cmp.Compare(a.Rule, b.Rule))
	})
}

// Fails reports whether a finding is at or above level: what --fail-on
// fails on.
func Fails(findings []Finding, level severity.Level) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity >= level })
}
