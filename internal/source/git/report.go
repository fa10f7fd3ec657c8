package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/keywarden/keywarden/internal/scan"
)

// report locates the blobs that hold findings in history and sends one
// finding per fingerprint (rule, key, secret, path) to env.Sink, naming the
// oldest commit that introduced it. It returns the blob ids that history
// names but the repository lacks.
func report(ctx context.Context, g *gitCmd, st *repoState, inv *inventory, hits *blobHits, opts Options, env scan.Env) ([]string, error) {
	wanted := make(map[string]bool, len(hits.hits))
	for id := range hits.hits {
		wanted[id] = true
	}
	hist, err := walkHistory(ctx, g, inv.commits, wanted)
	if err != nil {
		return nil, err
	}
	refs, err := blobRefs(ctx, g)
	if err != nil {
		return nil, err
	}
	head, err := headTree(ctx, g)
	if err != nil {
		return nil, err
	}
	index := map[string][]string{}
	if !st.bare {
		if index, err = indexPaths(ctx, g); err != nil {
			return nil, err
		}
	}
	best := make(map[string]scan.Finding)
	inHead := make(map[string]bool)
	for blob, ms := range hits.hits {
		for _, s := range sightingsOf(blob, hist, index, refs) {
			if opts.skip(s.path) {
				continue
			}
			for _, m := range ms {
				f := scan.NewFinding(m, scan.Location{Source: "git", Path: s.path, Commit: s.commit,
					Author: s.author, Date: s.date})
				if head[s.path] == blob {
					inHead[f.Fingerprint] = true
				}
				if old, ok := best[f.Fingerprint]; !ok || older(f, old) {
					best[f.Fingerprint] = f
				}
			}
		}
	}
	emit(best, inHead, env)
	var missing []string
	for id := range hist.referred {
		if !inv.has(id) {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// sightingsOf names where a blob was seen: the commits that introduced it,
// else its paths in the index (staged), else the refs that point at it,
// else the blob itself.
func sightingsOf(blob string, hist *history, index, refs map[string][]string) []sighting {
	if s := hist.sightings[blob]; len(s) > 0 {
		return s
	}
	var out []sighting
	for _, path := range index[blob] {
		out = append(out, sighting{blob: blob, path: path})
	}
	if len(out) > 0 {
		return out
	}
	for _, ref := range refs[blob] {
		out = append(out, sighting{blob: blob, path: "<" + ref + ">"})
	}
	if len(out) == 0 {
		out = append(out, sighting{blob: blob, path: "<blob " + shortID(blob) + ">"})
	}
	return out
}

// older reports whether a was introduced before b: by author date, then by
// position, then by commit id so that the choice never depends on map order.
func older(a, b scan.Finding) bool {
	switch {
	case !a.Date.Equal(b.Date):
		return a.Date.Before(b.Date)
	case a.Line != b.Line:
		return a.Line < b.Line
	case a.Column != b.Column:
		return a.Column < b.Column
	}
	return a.Commit < b.Commit
}

// emit sends the findings in a stable order.
func emit(best map[string]scan.Finding, inHead map[string]bool, env scan.Env) {
	out := make([]scan.Finding, 0, len(best))
	for fp, f := range best {
		f.InHead = inHead[fp]
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Fingerprint < b.Fingerprint
	})
	for _, f := range out {
		env.Sink.Add(f)
	}
}

// blobRefs maps each blob that a ref names directly, or through an annotated
// tag, to those refs.
func blobRefs(ctx context.Context, g *gitCmd) (map[string][]string, error) {
	out, err := g.output(ctx, nil, "for-each-ref",
		"--format=%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)")
	if err != nil {
		return nil, fmt.Errorf("list refs: %w", err)
	}
	refs := make(map[string][]string)
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, " ", 5)
		if len(f) < 5 {
			continue
		}
		switch {
		case f[1] == "blob":
			refs[f[0]] = append(refs[f[0]], f[4])
		case f[3] == "blob":
			refs[f[2]] = append(refs[f[2]], f[4])
		}
	}
	return refs, nil
}

// indexPaths maps each blob the index holds to its paths there.
func indexPaths(ctx context.Context, g *gitCmd) (map[string][]string, error) {
	out, err := g.output(ctx, nil, "ls-files", "-s", "-z")
	if err != nil {
		return nil, fmt.Errorf("list the index: %w", err)
	}
	index := make(map[string][]string)
	for _, entry := range strings.Split(string(out), "\x00") {
		meta, path, ok := strings.Cut(entry, "\t")
		f := strings.Fields(meta) // mode, object, stage
		if !ok || len(f) != 3 || f[0] == "160000" || slices.Contains(index[f[1]], path) {
			continue // a submodule's commit, or a conflict's other stage of the same path
		}
		index[f[1]] = append(index[f[1]], path)
	}
	return index, nil
}

// headTree maps each path in HEAD's tree to its blob; an unborn HEAD has none.
func headTree(ctx context.Context, g *gitCmd) (map[string]string, error) {
	if _, err := g.output(ctx, nil, "rev-parse", "-q", "--verify", "HEAD^{tree}"); err != nil {
		return map[string]string{}, nil
	}
	out, err := g.output(ctx, nil, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
	if err != nil {
		return nil, fmt.Errorf("list HEAD: %w", err)
	}
	tree := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	sc.Split(splitNUL)
	for sc.Scan() {
		meta, path, ok := strings.Cut(sc.Text(), "\t")
		if f := strings.Fields(meta); ok && len(f) == 3 && f[1] == "blob" {
			tree[path] = f[2]
		}
	}
	return tree, sc.Err()
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
