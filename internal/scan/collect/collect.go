// Package collect gathers one scan's findings from every input it names:
// stdin, files, directories and archives, repositories (every object of
// their history and the files of their work tree), what is staged, a commit
// message, and web sites. It applies each root's allowlist, leaves out what
// the history already reports and what an earlier report (the baseline)
// holds, and orders the rest. The sources (internal/source, source/git,
// source/dotgit) do the reading; the scan package is the detector they share.
package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/keywarden/keywarden/internal/allow"
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
	Warn      func(error) // what the scan carried on past (an unreadable file, a missing object)
}

// ErrNoInput is the error of a PATH that does not exist (a baseline or an
// allowlist that does not exist has its own).
var ErrNoInput = errors.New("no such file or directory")

// Findings scans every input of opts and returns what it found, minus the
// allowlisted and the baselined, in a stable order.
func Findings(ctx context.Context, opts Options) ([]scan.Finding, error) {
	baseline, err := readBaseline(opts.Baseline)
	if err != nil {
		return nil, err
	}
	if opts.Stats == nil {
		opts.Stats = &scan.Stats{}
	}
	c := collector{opts: opts, det: scan.NewDetector()}
	found, err := c.all(ctx)
	if err != nil {
		return nil, err
	}
	found = scan.DropBaselined(found, baseline)
	scan.Sort(found)
	return found, nil
}

// collector holds what every input of one scan shares.
type collector struct {
	opts Options
	det  *scan.Detector
}

// scanWith runs one source with an environment that sends its findings,
// minus those list allows, to a collector, and returns them.
func (c collector) scanWith(list allow.List, run func(scan.Env) error) ([]scan.Finding, error) {
	col := &scan.Collector{}
	env := scan.Env{Detector: c.det, Sink: allowSink{list: list, next: col}, Stats: c.opts.Stats, Warn: c.opts.Warn}
	err := run(env)
	return col.Findings(), err
}

func (c collector) all(ctx context.Context) ([]scan.Finding, error) {
	switch {
	case c.opts.Staged:
		return c.staged(ctx)
	case c.opts.CommitMsg != "":
		return c.scanWith(allow.List{}, func(env scan.Env) error {
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
		found, err := c.scanWith(allow.List{}, func(env scan.Env) error { return dotgit.ScanURL(ctx, u, dotgit.Options{}, env) })
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
	return c.scanWith(list, func(env scan.Env) error {
		return git.ScanStaged(ctx, root, git.Options{Skip: list.SkipPath}, env)
	})
}

// path scans one PATH: stdin, a file, a tree, or a repository (its history
// and its work tree).
func (c collector) path(ctx context.Context, p string) ([]scan.Finding, error) {
	if p == "-" {
		return c.scanWith(allow.List{}, func(env scan.Env) error { return source.ScanStdin(ctx, c.opts.Stdin, env) })
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("scan %s: %w", p, ErrNoInput)
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", p, bare(err))
	}
	list, err := allow.Load(p, c.opts.Config)
	if err != nil {
		return nil, err
	}
	files, err := c.scanWith(list, func(env scan.Env) error {
		return source.ScanFS(ctx, p, source.FSOptions{Skip: list.SkipPath}, env)
	})
	if err != nil || !st.IsDir() || c.opts.NoGit || !git.IsRepo(p) {
		return files, err
	}
	history, err := c.scanWith(list, func(env scan.Env) error {
		return git.ScanRepo(ctx, p, git.Options{Skip: list.SkipPath}, env)
	})
	if err != nil {
		return nil, err
	}
	return scan.MergeWorkTree(p, history, files), nil
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
