// Package git scans every object of a git repository, and what is staged.
//
// A repository scan reads each distinct blob once — every branch, tag, stash
// entry, reflog, and unreachable or dangling object — straight from the
// object database: each pack's delta trees are resolved the way `git
// index-pack` does (every object inflated once, deltas applied depth first,
// trees spread over the cores), then the loose objects. Objects it cannot hold
// in memory or resolve within their pack, and SHA-256 repositories, are read
// through `git cat-file --batch` instead. Only blobs that hold findings are
// then located in history, by one `git log --raw` pass over every commit.
//
// A finding in a blob that no commit names has an empty Commit. A blob the
// index holds (staged, not yet committed) has its path in the index; a
// dangling blob, or one kept only by a tree no commit holds, has the Path "<blob ID>",
// ID being the blob's first 12 hex digits; a blob a ref names directly (a tag
// pointing straight at a blob) has the Path "<REFNAME>", e.g. "<refs/tags/key>".
package git

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/scan"
)

// Options tune a repository scan.
type Options struct {
	Skip func(path string) bool // allowlisted paths (repository-relative, slash-separated)
}

func (o Options) skip(path string) bool { return o.Skip != nil && o.Skip(path) }

// IsRepo reports whether dir is the top of a git work tree or a bare repository.
func IsRepo(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return true
	}
	for _, name := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// repoState is what the scan needs to know about the repository up front.
type repoState struct {
	gitDir    string
	commonDir string // where the objects live (differs in a linked work tree)
	sha1      bool   // the pack reader knows SHA-1 ids only
	shallow   bool
	bare      bool // no work tree, so no index
	partial   bool // objects may be missing by design (promisor packs, partial clone)
}

// openRepo checks that dir is a readable repository.
func openRepo(ctx context.Context, g *gitCmd, dir string) (*repoState, error) {
	out, err := g.output(ctx, nil, "rev-parse", "--absolute-git-dir", "--is-shallow-repository",
		"--show-object-format", "--git-common-dir", "--is-bare-repository")
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable git repository: %w", dir, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 5 {
		return nil, fmt.Errorf("%s is not a readable git repository", dir)
	}
	st := &repoState{gitDir: lines[0], shallow: lines[1] == "true", sha1: lines[2] == "sha1", commonDir: lines[3],
		bare: lines[4] == "true"}
	if !filepath.IsAbs(st.commonDir) {
		st.commonDir = filepath.Join(dir, st.commonDir)
	}
	promisors, _ := filepath.Glob(filepath.Join(st.commonDir, "objects", "pack", "*.promisor"))
	st.partial = len(promisors) > 0
	return st, nil
}

// ScanRepo scans every object in the repository at dir and sends each
// finding, located in history, to env.Sink.
func ScanRepo(ctx context.Context, dir string, opts Options, env scan.Env) error {
	g := newGitCmd(dir, false)
	st, err := openRepo(ctx, g, dir)
	if err != nil {
		return err
	}
	if st.shallow {
		warn(env, fmt.Errorf("%s is a shallow clone: history before its shallow boundary is not there to scan", dir))
	}
	res, err := scanStore(ctx, g, st, dir, env)
	if err == errNoPackReader {
		phase(env, "git objects of %s (through git cat-file)", dir)
		res, err = scanWithCatFile(ctx, g, st, env)
	}
	if err != nil {
		return fmt.Errorf("scan %s: %w", dir, err)
	}
	missing := res.missing
	if len(res.hits.hits) > 0 {
		phase(env, "git history of %s: finding the commits of %d blobs", dir, len(res.hits.hits))
		more, err := report(ctx, g, st, res.inventory(), res.hits, opts, env)
		if err != nil {
			return fmt.Errorf("scan %s: %w", dir, err)
		}
		missing = append(missing, more...)
	}
	warnIDs(env, fmt.Sprintf("%s lacks %%d objects (partial or damaged clone), not scanned", dir), missing)
	warnIDs(env, fmt.Sprintf("%s holds %%d unreadable objects (damaged pack), not scanned", dir), res.damaged)
	return nil
}

// scanResult is what reading the object database found.
type scanResult struct {
	hits      *blobHits
	missing   []string // objects history or trees name that the repository lacks
	damaged   []string // objects present but unreadable
	inventory func() *inventory
}

// scanWithCatFile reads the blobs through `git cat-file`: the path for
// object stores the pack reader does not know (SHA-256, index v1).
func scanWithCatFile(ctx context.Context, g *gitCmd, st *repoState, env scan.Env) (*scanResult, error) {
	inv, err := listObjects(ctx, g)
	if err != nil {
		return nil, err
	}
	// A partial clone lacks objects by design; listing them walks every tree,
	// so it runs beside the blob scan rather than after it.
	var partialMissing []string
	var partialErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if st.partial {
			partialMissing, partialErr = missingObjects(ctx, g)
		}
	}()
	hits, err := scanBlobs(ctx, g, inv.blobs, env)
	<-done
	if err != nil {
		return nil, err
	}
	if partialErr != nil {
		return nil, partialErr
	}
	return &scanResult{hits: hits, missing: append(hits.missing, partialMissing...), damaged: hits.damaged,
		inventory: func() *inventory { return inv }}, nil
}

// warnIDs sends one warning for a list of objects; format holds one %d
// for their number.
func warnIDs(env scan.Env, format string, list []string) {
	if len(list) == 0 {
		return
	}
	seen := make(map[string]bool, len(list))
	var ids []string
	for _, id := range list {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	shown := ids[:min(len(ids), 3)]
	for i, id := range shown {
		shown[i] = shortID(id)
	}
	more := ""
	if len(ids) > len(shown) {
		more = ", ..."
	}
	warn(env, fmt.Errorf(format+": %s%s", len(ids), strings.Join(shown, ", "), more))
}

func warn(env scan.Env, err error) {
	if env.Warn != nil {
		env.Warn(err)
	}
}

// phase names the work under way for the progress line.
func phase(env scan.Env, format string, args ...any) {
	if env.Stats != nil {
		env.Stats.SetPhase(fmt.Sprintf(format, args...))
	}
}

func shortID(id string) string { return id[:min(len(id), 12)] }

// missingObjects lists the objects that history names but the repository
// lacks. It walks every tree, so it runs only where objects are expected to
// be missing (partial clones) and no history pass already told.
func missingObjects(ctx context.Context, g *gitCmd) ([]string, error) {
	out, err := g.output(ctx, nil, "rev-list", "--objects", "--all", "--missing=print", "--no-object-names")
	if err != nil {
		return nil, fmt.Errorf("list missing objects: %w", err)
	}
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if id, ok := strings.CutPrefix(line, "?"); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
