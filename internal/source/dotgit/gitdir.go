package dotgit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/scan"
)

// maxPacks bounds how many packs of objects/info/packs are fetched.
const maxPacks = 64

// scanGitDir reports an exposed .git/ and scans what can be rebuilt of it.
// Nothing is reported unless HEAD or config has the shape git gives them, so
// a site that answers every path with a page stays quiet.
func scanGitDir(ctx context.Context, f *fetcher, opts Options, env scan.Env) error {
	head, err := f.get(ctx, ".git/HEAD", 4096)
	if errors.Is(err, errBound) {
		return err
	}
	_, _, headOK := parseHEAD(head)
	headOK = headOK && err == nil
	config, err := f.get(ctx, ".git/config", 1<<20)
	if errors.Is(err, errBound) {
		return err
	}
	configOK := err == nil && isGitConfig(config)
	if !headOK && !configOK {
		return nil
	}
	env.Sink.Add(exposure(scan.RuleExposedGit, f.urlOf(".git/"), "web server serves its .git/ directory; the repository can be rebuilt from it"))
	if configOK {
		// Remote URLs in config often carry credentials.
		env.ScanBytes(config, scan.Location{Source: "url", Path: f.urlOf(".git/config"), InHead: true})
	}
	if !headOK {
		head = nil
	}
	refs, err := discoverRefs(ctx, f, head)
	if err != nil {
		return err
	}
	packs := fetchPacks(ctx, f, opts, env)
	defer packs.close()
	index := fetchIndex(ctx, f, opts, env)

	w := newWalker(f, env, opts, packs)
	commits := w.commits(ctx, refs.ids)
	for _, c := range commits {
		if c.id == refs.head {
			w.markHead(ctx, c.tree, 0, map[string]bool{})
		}
	}
	for _, c := range commits {
		w.scanTree(ctx, c.tree, "", 0, c)
	}
	// The index names the work tree's files even when no commit reaches them.
	for _, e := range index {
		w.scanBlob(ctx, e.id, e.path, nil)
	}
	w.scanUnreachable(ctx)
	if w.missing > 0 {
		env.Warn(fmt.Errorf("%s: %s could not be fetched (missing, in packs the site does not list, or past a bound); the rebuilt history is incomplete", w.gitURL, english.Count(w.missing, "object")))
	}
	return nil
}

// isGitConfig reports whether a body has the shape of .git/config.
func isGitConfig(b []byte) bool {
	return !looksHTML(b) && bytes.Contains(b, []byte("[core]"))
}

// fetchPacks fetches the packs objects/info/packs lists into a temporary
// repository. It returns nil (a store holding nothing) when there are none or
// git cannot be run; loose objects are still fetched then.
func fetchPacks(ctx context.Context, f *fetcher, opts Options, env scan.Env) *packStore {
	list, err := f.get(ctx, ".git/objects/info/packs", 1<<20)
	if err != nil || looksHTML(list) {
		return nil
	}
	var names []string
	for _, line := range strings.Split(string(list), "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "P ")
		name, isPack := strings.CutSuffix(name, ".pack")
		if ok && isPack && strings.HasPrefix(name, "pack-") && isObjectID(strings.TrimPrefix(name, "pack-")) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if len(names) > maxPacks {
		env.Warn(fmt.Errorf("%s: %d packs listed; fetching the first %d", f.urlOf(".git/objects/info/packs"), len(names), maxPacks))
		names = names[:maxPacks]
	}
	store, err := newPackStore(ctx)
	if err != nil {
		env.Warn(fmt.Errorf("packed objects of %s skipped: %w", f.urlOf(".git/"), err))
		return nil
	}
	for _, name := range names {
		if !fetchPack(ctx, f, opts, env, store, name) {
			break
		}
	}
	if err := store.start(ctx); err != nil {
		env.Warn(fmt.Errorf("packed objects of %s skipped: %w", f.urlOf(".git/"), err))
		store.close()
		return nil
	}
	return store
}

// fetchPack fetches one pack and its index; it returns false once a bound
// stops further fetching.
func fetchPack(ctx context.Context, f *fetcher, opts Options, env scan.Env, store *packStore, name string) bool {
	rel := ".git/objects/pack/" + name
	idx, err := f.get(ctx, rel+".idx", opts.MaxBytes)
	if errors.Is(err, errBound) {
		return false
	}
	if err != nil || !bytes.HasPrefix(idx, []byte("\xfftOc")) {
		return true
	}
	pack, err := f.get(ctx, rel+".pack", opts.MaxBytes)
	if errors.Is(err, errBound) {
		return false
	}
	if err != nil || !bytes.HasPrefix(pack, []byte("PACK")) {
		return true
	}
	if err := store.addPack(name, idx, pack); err != nil {
		env.Warn(err)
	}
	return true
}

// fetchIndex fetches and parses .git/index; a malformed one yields the
// entries read before the fault, with a warning.
func fetchIndex(ctx context.Context, f *fetcher, opts Options, env scan.Env) []indexEntry {
	data, err := f.get(ctx, ".git/index", opts.MaxObjectBytes)
	if err != nil {
		return nil
	}
	entries, err := parseIndex(data)
	if err != nil {
		env.Warn(fmt.Errorf("%s: %w", f.urlOf(".git/index"), err))
	}
	return entries
}

// scanUnreachable scans the packed blobs no commit or index entry reached
// (deleted branches, dropped stashes). They are located at
// "<site>/.git object:<blob id>", having no path of their own.
func (w *walker) scanUnreachable(ctx context.Context) {
	all, err := w.packs.listObjects(ctx)
	if err != nil {
		w.env.Warn(fmt.Errorf("%s: %w", w.gitURL, err))
	}
	var ids []string
	for id, typ := range all {
		if typ == "blob" && !w.blobs[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids) // findings in a stable order
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		w.scanBlob(ctx, id, "object:"+id, nil)
	}
}
