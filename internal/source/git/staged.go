package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keywarden/keywarden/internal/scan"
)

// stagedFile is one path the index changes relative to HEAD.
type stagedFile struct {
	path     string
	old, new string // blob ids; old is empty for an added file
}

// ScanStaged scans what is staged in the index of the repository at dir and
// reports only keys the commit would add: a key already in the file's HEAD
// version (or in the file a rename or copy came from) is not this commit's
// problem. It honours GIT_INDEX_FILE, as a pre-commit hook must.
func ScanStaged(ctx context.Context, dir string, opts Options, env scan.Env) error {
	g := newGitCmd(dir, true)
	base := "HEAD"
	if _, err := g.output(ctx, nil, "rev-parse", "-q", "--verify", "HEAD^{commit}"); err != nil {
		out, err := g.output(ctx, strings.NewReader(""), "hash-object", "-t", "tree", "--stdin")
		if err != nil {
			return fmt.Errorf("%s is not a readable git repository: %w", dir, err)
		}
		base = strings.TrimSpace(string(out)) // first commit: everything staged is new
	}
	out, err := g.output(ctx, nil, "diff-index", "--cached", "-z", "-M", "--no-ext-diff", base)
	if err != nil {
		return fmt.Errorf("list staged changes in %s: %w", dir, err)
	}
	files := parseStaged(out, opts)
	if len(files) == 0 {
		return nil
	}
	blobs, err := readBlobs(ctx, g, files)
	if err != nil {
		return fmt.Errorf("read staged changes in %s: %w", dir, err)
	}
	for _, f := range files {
		scanStagedFile(f, blobs, env)
	}
	return nil
}

// parseStaged reads `diff-index -z` raw output: ":modes old new status\0path\0"
// with a second path for renames and copies.
func parseStaged(out []byte, opts Options) []stagedFile {
	toks := strings.Split(string(out), "\x00")
	var files []stagedFile
	for i := 0; i < len(toks); i++ {
		f := strings.Fields(strings.TrimPrefix(toks[i], ":"))
		if len(f) < 5 || i+1 >= len(toks) {
			continue
		}
		status := f[4][:1]
		path := toks[i+1]
		i++
		if (status == "R" || status == "C") && i+1 < len(toks) {
			path = toks[i+1]
			i++
		}
		if status == "D" || status == "U" || f[1] == "160000" || opts.skip(path) {
			continue
		}
		sf := stagedFile{path: path, new: f[3]}
		if status != "A" {
			sf.old = f[2]
		}
		files = append(files, sf)
	}
	return files
}

// readBlobs reads the old and new blobs of the staged files through one cat-file.
func readBlobs(ctx context.Context, g *gitCmd, files []stagedFile) (map[string][]byte, error) {
	var req strings.Builder
	for _, f := range files {
		req.WriteString(f.new + "\n")
		if f.old != "" {
			req.WriteString(f.old + "\n")
		}
	}
	cmd := g.command(ctx, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(req.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	blobs, readErr := readBatch(bufio.NewReader(out))
	if readErr != nil {
		cmd.Process.Kill()
	}
	if err := cmd.Wait(); err != nil && readErr == nil {
		return nil, gitError([]string{"cat-file"}, err, stderr.Bytes())
	}
	return blobs, readErr
}

// readBatch reads `cat-file --batch` replies until EOF; missing objects are left out.
func readBatch(r *bufio.Reader) (map[string][]byte, error) {
	blobs := make(map[string][]byte)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && line == "" {
			return blobs, nil
		}
		if err != nil {
			return nil, err
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			continue // "<id> missing"
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("object %s: bad size", f[0])
		}
		data := make([]byte, size+1)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("object %s: %w", f[0], err)
		}
		blobs[f[0]] = data[:size]
	}
}

// scanStagedFile reports the keys in the staged version of f that its
// previous version did not already hold.
func scanStagedFile(f stagedFile, blobs map[string][]byte, env scan.Env) {
	data, ok := blobs[f.new]
	if !ok {
		return
	}
	if isBinary(data) {
		countSkipped(env)
		return
	}
	countScanned(env, int64(len(data)))
	ms := env.Detector.Find(data)
	if len(ms) == 0 {
		return
	}
	known := make(map[string]bool)
	if old, ok := blobs[f.old]; ok && f.old != "" {
		for _, m := range env.Detector.Find(old) {
			known[identity(m)] = true
		}
	}
	for _, m := range ms {
		if !known[identity(m)] {
			env.Sink.Add(scan.NewFinding(m, scan.Location{Source: "git", Path: f.path}))
		}
	}
}

// identity names a credential regardless of where in the file it sits.
func identity(m scan.Match) string {
	return string(m.Rule) + "\x00" + m.KeyID + "\x00" + m.Secret.SHA256()
}
