package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/allow"
	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/source"
	"github.com/keywarden/keywarden/internal/source/dotgit"
	"github.com/keywarden/keywarden/internal/source/git"
	"github.com/keywarden/keywarden/internal/ui"
)

// runScan collects findings from every input, filters, verifies, reports, and
// turns "found something" into errFindings.
func runScan(ctx context.Context, opts scanOptions, deps Deps) error {
	start := time.Now()
	baseline, err := readBaseline(opts.baseline)
	if err != nil {
		return err
	}
	sc := &scanner{opts: opts, deps: deps, det: scan.NewDetector(), stats: &scan.Stats{}, warn: newWarner(deps.Stderr)}
	var progress *ui.Progress
	if !opts.quiet {
		progress = ui.StartProgress(deps.Stderr, sc.count, 250*time.Millisecond)
	}
	findings, err := sc.collect(ctx)
	progress.Stop()
	sc.warn.flush()
	if err != nil {
		return err
	}
	findings = dropBaselined(findings, baseline)
	sortFindings(findings)
	if opts.verify {
		if err := verifyFindings(ctx, opts, findings); err != nil {
			return err
		}
	}
	if err := writeScanReport(opts, deps, findings); err != nil {
		return err
	}
	if !opts.quiet && ui.IsTerminal(deps.Stderr) {
		fmt.Fprintf(deps.Stderr, "%s: %d finding(s)\n", ui.Rate(sc.count, time.Since(start)), len(findings))
	}
	for _, f := range findings {
		if f.Severity >= opts.failOn {
			return errFindings
		}
	}
	return nil
}

// scanner holds what every input of one scan run shares.
type scanner struct {
	opts  scanOptions
	deps  Deps
	det   *scan.Detector
	stats *scan.Stats
	warn  *warner
}

func (s *scanner) count() (int64, int64) { return s.stats.Objects.Load(), s.stats.Bytes.Load() }

// env returns the scan environment that sends findings, minus allowlisted ones, to sink.
func (s *scanner) env(list allow.List, sink *scan.Collector) scan.Env {
	return scan.Env{Detector: s.det, Sink: allowSink{list: list, next: sink}, Stats: s.stats, Warn: s.warn.add}
}

func (s *scanner) collect(ctx context.Context) ([]scan.Finding, error) {
	switch {
	case s.opts.staged:
		return s.staged(ctx)
	case s.opts.commitMsg != "":
		col := &scan.Collector{}
		err := source.ScanFS(ctx, s.opts.commitMsg, source.FSOptions{}, s.env(allow.List{}, col))
		return col.Findings(), err
	}
	var all []scan.Finding
	for _, p := range s.opts.paths {
		found, err := s.path(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	for _, u := range s.opts.urls {
		col := &scan.Collector{}
		if err := dotgit.ScanURL(ctx, u, dotgit.Options{}, s.env(allow.List{}, col)); err != nil {
			return nil, err
		}
		all = append(all, col.Findings()...)
	}
	return all, nil
}

func (s *scanner) staged(ctx context.Context) ([]scan.Finding, error) {
	root := "."
	if len(s.opts.paths) == 1 {
		root = s.opts.paths[0]
	}
	list, err := allow.Load(root, s.opts.config)
	if err != nil {
		return nil, err
	}
	col := &scan.Collector{}
	if err := git.ScanStaged(ctx, root, git.Options{Skip: list.SkipPath}, s.env(list, col)); err != nil {
		return nil, err
	}
	return col.Findings(), nil
}

// path scans one PATH argument: stdin, a file, a tree, or a repository (history and work tree).
func (s *scanner) path(ctx context.Context, p string) ([]scan.Finding, error) {
	if p == "-" {
		col := &scan.Collector{}
		err := source.ScanStdin(ctx, s.deps.Stdin, s.env(allow.List{}, col))
		return col.Findings(), err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, pathError(p, err)
	}
	list, err := allow.Load(p, s.opts.config)
	if err != nil {
		return nil, err
	}
	files := &scan.Collector{}
	if err := source.ScanFS(ctx, p, source.FSOptions{Skip: list.SkipPath}, s.env(list, files)); err != nil {
		return nil, err
	}
	if !st.IsDir() || s.opts.noGit || !git.IsRepo(p) {
		return files.Findings(), nil
	}
	history := &scan.Collector{}
	if err := git.ScanRepo(ctx, p, git.Options{Skip: list.SkipPath}, s.env(list, history)); err != nil {
		return nil, err
	}
	return mergeWorkTree(p, history.Findings(), files.Findings()), nil
}

// pathError turns a failed stat into one line naming the input.
func pathError(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return withHint(fmt.Errorf("scan %s: no such file or directory", p), "give a file, a directory, an archive or - for stdin")
	}
	return fmt.Errorf("scan %s: %w", p, err)
}

// mergeWorkTree drops work-tree findings that the history scan already reports
// (same key at the same repository path): the git finding names the commit too.
func mergeWorkTree(root string, history, files []scan.Finding) []scan.Finding {
	prefix := path.Clean(filepath.ToSlash(root)) + "/"
	if prefix == "./" {
		prefix = ""
	}
	seen := make(map[string]bool, len(history))
	for _, f := range history {
		seen[scan.Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, f.Path)] = true
	}
	out := history
	for _, f := range files {
		rel := strings.TrimPrefix(f.Path, prefix)
		if !seen[scan.Fingerprint(f.Rule, f.KeyID, f.SecretSHA256, rel)] {
			out = append(out, f)
		}
	}
	return out
}

// allowSink drops allowlisted findings on their way to the collector.
type allowSink struct {
	list allow.List
	next *scan.Collector
}

func (a allowSink) Add(f scan.Finding) {
	if !a.list.Allows(f) {
		a.next.Add(f)
	}
}

func readBaseline(p string) (map[string]bool, error) {
	if p == "" {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, pathError(p, err)
	}
	defer f.Close()
	fps, err := report.ReadBaseline(f)
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", p, err)
	}
	return fps, nil
}

func dropBaselined(findings []scan.Finding, baseline map[string]bool) []scan.Finding {
	if len(baseline) == 0 {
		return findings
	}
	out := findings[:0]
	for _, f := range findings {
		if !baseline[f.Fingerprint] {
			out = append(out, f)
		}
	}
	return out
}

// sortFindings orders findings so that output is the same on every run, whatever the scheduling.
func sortFindings(fs []scan.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		for _, c := range [][2]string{{a.Source, b.Source}, {a.Path, b.Path}, {a.Commit, b.Commit}} {
			if c[0] != c[1] {
				return c[0] < c[1]
			}
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Rule < b.Rule
	})
}

func writeScanReport(opts scanOptions, deps Deps, findings []scan.Finding) error {
	ropts := report.Options{ShowSecrets: opts.showSecrets, Version: Version()}
	if opts.output == "" {
		ropts.Color = ui.ColorOK(deps.Stdout)
		return report.WriteScan(deps.Stdout, opts.format, findings, ropts)
	}
	// A report with clear secrets is itself a credentials file.
	perm := os.FileMode(0o644)
	if opts.showSecrets {
		perm = 0o600
	}
	return atomicfile.Write(opts.output, perm, func(w io.Writer) error {
		return report.WriteScan(w, opts.format, findings, ropts)
	})
}
