package dotgit

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/keywarden/keywarden/internal/scan"
)

// walker rebuilds the repository object by object: commits from the start
// points and their parents, then each commit's trees and blobs, oldest commit
// first so that a blob is credited to the first commit that holds it.
type walker struct {
	f      *fetcher
	env    scan.Env
	opts   Options
	gitURL string // "https://site/.git", the prefix of every git finding's Path
	packs  *packStore

	objects map[string]bool // ids already fetched or given up on: nothing is asked twice
	trees   map[string]bool // trees already walked
	blobs   map[string]bool // blobs already scanned
	head    map[string]bool // blobs in HEAD's tree
	cached  map[string][]treeEntry
	missing int
	stopped bool // a bound was reached: fetch nothing more
}

func newWalker(f *fetcher, env scan.Env, opts Options, packs *packStore) *walker {
	return &walker{
		f: f, env: env, opts: opts, packs: packs,
		gitURL:  f.urlOf(".git"),
		objects: map[string]bool{}, trees: map[string]bool{}, blobs: map[string]bool{},
		head: map[string]bool{}, cached: map[string][]treeEntry{},
	}
}

// maxTreeDepth bounds directory nesting, so a hostile chain of trees cannot
// recurse without end.
const maxTreeDepth = 256

// location is where a blob at path in the repository is reported. Git
// content is located as "<site>/.git <path in repo>": the URL of the exposed
// directory, a space, and the file's path inside the repository.
func (w *walker) location(path string, c *commitInfo) scan.Location {
	loc := scan.Location{Source: "url", Path: w.gitURL + " " + path}
	if c != nil {
		loc.Commit, loc.Author, loc.Date = c.id, c.author, c.date
	}
	return loc
}

// object returns an object from the packs or, failing that, as a loose
// object over HTTP. ok=false means it could not be had (counted as missing).
func (w *walker) object(ctx context.Context, id string) (object, bool) {
	if w.objects[id] || !isObjectID(id) {
		return object{}, false
	}
	w.objects[id] = true
	obj, ok, err := w.packs.get(id, w.opts.MaxObjectBytes)
	if err != nil {
		w.env.Warn(fmt.Errorf("%s: %w", w.gitURL, err))
	}
	if ok {
		return obj, true
	}
	if w.stopped {
		w.missing++
		return object{}, false
	}
	raw, err := w.f.get(ctx, ".git/objects/"+id[:2]+"/"+id[2:], w.opts.MaxObjectBytes)
	if errors.Is(err, errBound) {
		w.stopped = true
	}
	if err != nil {
		w.missing++
		return object{}, false
	}
	obj, err = parseLooseObject(raw, id, w.opts.MaxObjectBytes)
	if err != nil {
		w.env.Warn(fmt.Errorf("%s: %w", w.gitURL, err))
		w.missing++
		return object{}, false
	}
	return obj, true
}

// commits walks the commit graph from the start points, peeling tags, and
// returns every commit it could fetch, oldest first.
func (w *walker) commits(ctx context.Context, starts []string) []*commitInfo {
	var out []*commitInfo
	queue := append([]string(nil), starts...)
	for len(queue) > 0 && ctx.Err() == nil {
		id := queue[0]
		queue = queue[1:]
		obj, ok := w.object(ctx, id)
		if !ok {
			continue
		}
		switch obj.typ {
		case "tag":
			if target, ok := parseTagTarget(obj.data); ok {
				queue = append(queue, target)
			}
		case "commit":
			c, err := parseCommit(id, obj.data)
			if err != nil {
				w.env.Warn(fmt.Errorf("%s: %w", w.gitURL, err))
				continue
			}
			out = append(out, &c)
			queue = append(queue, c.parents...)
		}
	}
	// Discovery order is newest first; a stable sort by date keeps that order
	// reversed for commits of the same second.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].date.Before(out[j].date) })
	return out
}

// markHead records the blobs of HEAD's tree (without scanning them), so that
// findings can say whether the key is still in the deployed tree. The trees
// read here are kept for the scan pass, since each may have cost a request.
func (w *walker) markHead(ctx context.Context, tree string, depth int, seen map[string]bool) {
	if seen[tree] || depth > maxTreeDepth {
		return
	}
	seen[tree] = true
	entries, ok := w.tree(ctx, tree)
	if !ok {
		return
	}
	w.cached[tree] = entries
	for _, e := range entries {
		switch {
		case e.isTree():
			w.markHead(ctx, e.id, depth+1, seen)
		case e.isBlob():
			w.head[e.id] = true
		}
	}
}

func (w *walker) tree(ctx context.Context, id string) ([]treeEntry, bool) {
	if entries, ok := w.cached[id]; ok {
		delete(w.cached, id)
		return entries, true
	}
	obj, ok := w.object(ctx, id)
	if !ok || obj.typ != "tree" {
		return nil, false
	}
	entries, err := parseTree(obj.data)
	if err != nil {
		w.env.Warn(fmt.Errorf("%s: tree %s: %w", w.gitURL, id, err))
	}
	return entries, true
}

// scanTree scans every blob under tree not scanned before. A tree walked
// before holds only blobs scanned before, so it is skipped whole; this also
// keeps a hostile tree that contains itself from looping.
func (w *walker) scanTree(ctx context.Context, tree, prefix string, depth int, c *commitInfo) {
	if w.trees[tree] || ctx.Err() != nil {
		return
	}
	if depth > maxTreeDepth {
		w.env.Warn(fmt.Errorf("%s: trees nested deeper than %d at %s; not followed", w.gitURL, maxTreeDepth, prefix))
		return
	}
	w.trees[tree] = true
	entries, _ := w.tree(ctx, tree)
	for _, e := range entries {
		switch {
		case e.isTree():
			w.scanTree(ctx, e.id, prefix+e.name+"/", depth+1, c)
		case e.isBlob():
			w.scanBlob(ctx, e.id, prefix+e.name, c)
		}
	}
}

func (w *walker) scanBlob(ctx context.Context, id, path string, c *commitInfo) {
	if w.blobs[id] {
		return
	}
	w.blobs[id] = true
	obj, ok := w.object(ctx, id)
	if !ok || obj.typ != "blob" {
		if w.env.Stats != nil {
			w.env.Stats.Skipped.Add(1)
		}
		return
	}
	loc := w.location(path, c)
	loc.InHead = w.head[id]
	w.env.ScanBytes(obj.data, loc)
}
