package git

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/scan"
)

// errNoPackReader sends a scan to cat-file: the object store is one the
// pack reader does not know.
var errNoPackReader = errors.New("object store not readable directly")

// scanStore reads every object through the pack reader. Objects it leaves
// over (too large to hold, deltas on a base in another pack) go through
// cat-file, so coverage is the same as cat-file's.
func scanStore(ctx context.Context, g *gitCmd, st *repoState, dir string, env scan.Env) (*scanResult, error) {
	if !st.sha1 {
		return nil, errNoPackReader
	}
	// Trees are decoded only where objects are missing by design: elsewhere
	// the history pass, which runs when there are findings, tells.
	dirs, ok := objectDirs(filepath.Join(st.commonDir, "objects"))
	if !ok {
		return nil, errNoPackReader
	}
	ps, err := openStore(dirs, env, st.partial)
	if err != nil {
		return nil, errNoPackReader
	}
	defer ps.close()
	objects := len(ps.loose)
	for _, p := range ps.packs {
		objects += p.idx.n
	}
	phase(env, "git objects of %s: %d packs, %d loose, %d objects in all", dir, len(ps.packs), len(ps.loose), objects)
	if err := ps.run(ctx); err != nil {
		return nil, err
	}
	res := &scanResult{hits: ps.hits, missing: ps.missingIDs(), damaged: ps.damaged}
	if len(ps.fallback) > 0 {
		phase(env, "git objects of %s: %d through git cat-file", dir, len(ps.fallback))
		more, err := scanBlobs(ctx, g, ps.fallback, env)
		if err != nil {
			return nil, err
		}
		for id, ms := range more.hits {
			res.hits.add(id, ms)
		}
		res.missing = append(res.missing, more.missing...)
		res.damaged = append(res.damaged, more.damaged...)
	}
	res.inventory = func() *inventory {
		return &inventory{commits: ps.commitIDs(), has: ps.has}
	}
	return res, nil
}

// objectDirs returns the object directory and its alternates, recursively;
// not ok for a quoted alternate path, which it leaves to git.
func objectDirs(objects string) ([]string, bool) {
	dirs := []string{objects}
	seen := map[string]bool{objects: true}
	for i := 0; i < len(dirs) && len(dirs) < 64; i++ {
		f, err := os.Open(filepath.Join(dirs[i], "info", "alternates"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "\"") {
				f.Close()
				return nil, false
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(dirs[i], line)
			}
			if line = filepath.Clean(line); !seen[line] {
				seen[line] = true
				dirs = append(dirs, line)
			}
		}
		f.Close()
	}
	return dirs, true
}
