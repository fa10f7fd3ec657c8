// Package collect gathers one scan's findings from every input it names:
// stdin, files, directories and archives, repositories (every object of
// their history and the files of their work tree), what is staged, a commit
// message, and web sites. It applies each root's allowlist, leaves out what
// the history already reports and what an earlier report (the baseline)
// holds, and orders the rest; what it could not read it returns as gaps.
// The sources (internal/source, source/git, source/dotgit) do the reading;
// the scan package is the detector they share.
package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/keywarden/keywarden/internal/allow"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/source"
	"github.com/keywarden/keywarden/internal/source/dotgit"
	"github.com/keywarden/keywarden/internal/source/git"
)

// Options name a scan's inputs and how its findings are filtered.
type Options struct {
	Paths     []string // files, directories, archives and repositories; "-" is Stdin
	URLs      []string // web sites, for an exposed .git/ and leak files
	NoGit     bool     // a repository's files only, not its history
	Staged    bool     // only what is staged in the repository Paths[0] (default ".")
	CommitMsg string   // a commit message file, alone
	Config    string   // the allowlist file; "" finds one in each scanned root
	Baseline  string   // an earlier json, jsonl or sarif report whose findings are left out
	Stdin     io.Reader
	Stats     *scan.Stats // work done, for progress; nil: not counted
	// Warn hears each gap as it is met (Result.Gaps has them all), to be
	// said while the scan goes on; nil: nobody.
	Warn func(error)
}

// Result is what a scan found and what it could not read.
type Result struct {
	Findings []scan.Finding
	// Gaps are the inputs, or parts of them, that could not be read (an
	// unreadable file, a truncated archive, a missing object): the scan is
	// incomplete, and "no findings" is no answer for them.
	Gaps []gap.Gap
}

// ErrNoInput is the error of a PATH that does not exist (a baseline or an
// allowlist that does not exist has its own).
var ErrNoInput = errors.New("no such file or directory")

// Findings scans every input of opts and returns what it found, minus the
// allowlisted and the baselined, in a stable order, and what it could not
// read. An input that cannot be read at all is a gap too, so that the
// others are still scanned; an input that does not exist is an error.
func Findings(ctx context.Context, opts Options) (Result, error) {
	baseline, err := readBaseline(opts.Baseline)
	if err != nil {
		return Result{}, err
	}
	if opts.Stats == nil {
		opts.Stats = &scan.Stats{}
	}
	c := collector{opts: opts, det: scan.NewDetector(), gaps: &gap.List{}}
	found, err := c.all(ctx)
	if err != nil {
		return Result{}, err
	}
	found = scan.DropBaselined(found, baseline)
	scan.Sort(found)
	return Result{Findings: found, Gaps: c.gaps.Gaps()}, nil
}

// collector holds what every input of one scan shares.
type collector struct {
	opts Options
	det  *scan.Detector
	gaps *gap.List
}

// scanWith runs one source of the input named input with an environment
// that sends its findings, minus those list allows, to a collector, and
// its gaps to c.gaps; it returns the findings. A read error that is a gap
// (the input could not be read) is kept as one, and is no error.
func (c collector) scanWith(ctx context.Context, input string, list allow.List, run func(scan.Env) error) ([]scan.Finding, error) {
	c.opts.Stats.SetPhase(input)
	col := &scan.Collector{}
	warn := func(err error) { c.gap(input, err) }
	env := scan.Env{Detector: c.det, Sink: allowSink{list: list, next: col}, Stats: c.opts.Stats, Warn: warn}
	err := run(env)
	if errors.As(err, new(*gap.Err)) && ctx.Err() == nil {
		warn(err)
		err = nil
	}
	return col.Findings(), err
}

// gap records what input could not read, and says it once.
func (c collector) gap(input string, err error) {
	if c.gaps.Add(gap.Of(input, err)) && c.opts.Warn != nil {
		c.opts.Warn(err)
	}
}

func (c collector) all(ctx context.Context) ([]scan.Finding, error) {
	switch {
	case c.opts.Staged:
		return c.staged(ctx)
	case c.opts.CommitMsg != "":
		return c.scanWith(ctx, c.opts.CommitMsg, allow.List{}, func(env scan.Env) error {
			return source.ScanFS(ctx, c.opts.CommitMsg, source.FSOptions{}, env)
		})
	}
	var all []scan.Finding
	for _, p := range c.opts.Paths {
		found, err := c.path(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	for _, u := range c.opts.URLs {
		found, err := c.scanWith(ctx, u, allow.List{}, func(env scan.Env) error { return dotgit.ScanURL(ctx, u, dotgit.Options{}, env) })
		if err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	return all, nil
}

func (c collector) staged(ctx context.Context) ([]scan.Finding, error) {
	root := "."
	if len(c.opts.Paths) == 1 {
		root = c.opts.Paths[0]
	}
	list, err := allow.Load(root, c.opts.Config)
	if err != nil {
		return nil, err
	}
	return c.scanWith(ctx, root, list, func(env scan.Env) error {
		return git.ScanStaged(ctx, root, git.Options{Skip: list.SkipPath}, env)
	})
}

// path scans one PATH: stdin, a file, a tree, or a repository (its history
// and its work tree).
func (c collector) path(ctx context.Context, p string) ([]scan.Finding, error) {
	if p == "-" {
		return c.scanWith(ctx, "stdin", allow.List{}, func(env scan.Env) error { return source.ScanStdin(ctx, c.opts.Stdin, env) })
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("scan %s: %w", p, ErrNoInput)
	}
	if err == nil && st.IsDir() {
		err = listable(p) // before its allowlist, which could not be looked for either
	}
	if err != nil {
		c.gap(p, gap.New(p, bare(err)))
		return nil, nil
	}
	list, err := allow.Load(p, c.opts.Config)
	if err != nil {
		return nil, err
	}
	files, err := c.scanWith(ctx, p, list, func(env scan.Env) error {
		return source.ScanFS(ctx, p, source.FSOptions{Skip: list.SkipPath}, env)
	})
	if err != nil || !st.IsDir() || c.opts.NoGit || !git.IsRepo(p) {
		return files, err
	}
	history, err := c.scanWith(ctx, p, list, func(env scan.Env) error {
		return git.ScanRepo(ctx, p, git.Options{Skip: list.SkipPath}, env)
	})
	if err != nil {
		return nil, err
	}
	return scan.MergeWorkTree(p, history, files), nil
}

// listable reports why the directory dir cannot be listed, if it cannot.
func listable(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.ReadDir(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// bare is err without the path an *fs.PathError adds: the message that
// wraps it names the path already.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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

// readBaseline reads the fingerprints of an earlier report; "" is none.
func readBaseline(p string) (map[string]bool, error) {
	if p == "" {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", p, bare(err))
	}
	defer f.Close()
	fps, err := report.ReadBaseline(f)
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", p, err)
	}
	return fps, nil
}
