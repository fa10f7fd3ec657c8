// Package git scans every object of a git repository, and what is staged.
//
// A repository scan reads each distinct blob once — every branch, tag, stash
// entry, reflog, and unreachable or dangling object — by listing the object
// database (`git cat-file --batch-all-objects`) and reading the blobs through
// one `git cat-file --batch` per core. Only blobs that hold findings are then
// located in history, by one `git log --raw` pass over every commit.
//
// A finding in a blob that no commit names (a dangling blob, or one kept only
// by a tree no commit holds) has an empty Commit and the Path "<blob ID>",
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
	gitDir  string
	shallow bool
	partial bool // objects may be missing by design (promisor packs, partial clone)
}

// openRepo checks that dir is a readable repository.
func openRepo(ctx context.Context, g *gitCmd, dir string) (*repoState, error) {
	out, err := g.output(ctx, nil, "rev-parse", "--absolute-git-dir", "--is-shallow-repository")
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable git repository: %w", dir, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s is not a readable git repository", dir)
	}
	st := &repoState{gitDir: lines[0], shallow: lines[1] == "true"}
	promisors, _ := filepath.Glob(filepath.Join(st.gitDir, "objects", "pack", "*.promisor"))
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
	inv, err := listObjects(ctx, g)
	if err != nil {
		return fmt.Errorf("scan %s: %w", dir, err)
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
		return fmt.Errorf("scan %s: %w", dir, err)
	}
	if partialErr != nil {
		return fmt.Errorf("scan %s: %w", dir, partialErr)
	}
	missing := append(hits.missing, partialMissing...)
	if len(hits.hits) > 0 {
		more, err := report(ctx, g, inv, hits, opts, env)
		if err != nil {
			return fmt.Errorf("scan %s: %w", dir, err)
		}
		missing = append(missing, more...)
	}
	warnMissing(env, dir, missing)
	return nil
}

// warnMissing sends one warning for all the objects the repository lacks.
func warnMissing(env scan.Env, dir string, missing []string) {
	if len(missing) == 0 {
		return
	}
	seen := make(map[string]bool, len(missing))
	var ids []string
	for _, id := range missing {
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
	warn(env, fmt.Errorf("%s lacks %d objects (partial or damaged clone), not scanned: %s%s",
		dir, len(ids), strings.Join(shown, ", "), more))
}

func warn(env scan.Env, err error) {
	if env.Warn != nil {
		env.Warn(err)
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
