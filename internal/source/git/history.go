package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// sighting is one commit that put a blob at a path.
type sighting struct {
	blob, path, commit, author string
	date                       time.Time
}

// history is what one pass over every commit tells about the blobs that hold findings.
type history struct {
	sightings map[string][]sighting // blob id -> commits that introduced it, per path
	referred  map[string]struct{}   // every blob id some commit names (to find missing ones)
}

// walkHistory streams `git log --raw` over every commit in the repository
// (all of them as tips, so unreachable and dangling commits count too) and
// records, for each wanted blob, each commit that introduced it at a path.
// It runs only when there are findings, so its cost is paid only then.
func walkHistory(ctx context.Context, g *gitCmd, commits []string, wanted map[string]bool) (*history, error) {
	h := &history{sightings: make(map[string][]sighting), referred: make(map[string]struct{})}
	if len(commits) == 0 {
		return h, nil // no commit yet: git log would read the unborn HEAD and fail
	}
	cmd := g.command(ctx, "log", "--stdin", "--raw", "--no-abbrev", "-m", "--root", "--no-renames",
		"--no-ext-diff", "--no-textconv", "--no-color", "-z", "--format=tformat:%x01%H %aI %an <%ae>")
	cmd.Stdin = strings.NewReader(strings.Join(commits, "\n") + "\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	parseErr := h.parse(bufio.NewReaderSize(out, 1<<20), wanted)
	if parseErr != nil {
		cmd.Process.Kill()
	}
	waitErr := cmd.Wait()
	if parseErr != nil {
		return nil, fmt.Errorf("read history: %w", parseErr)
	}
	if waitErr != nil {
		return nil, gitError([]string{"log"}, waitErr, stderr.Bytes())
	}
	return h, nil
}

// parse reads the -z output: "\x01<commit> <date> <author>\0", then for each
// changed path ":<modes> <old> <new> <status>\0<path>\0".
func (h *history) parse(r *bufio.Reader, wanted map[string]bool) error {
	var cur sighting
	for {
		tok, err := r.ReadBytes(0)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		tok = bytes.TrimLeft(tok[:len(tok)-1], "\n")
		switch {
		case len(tok) > 0 && tok[0] == 1:
			cur = parseHeader(string(tok[1:]))
		case len(tok) > 0 && tok[0] == ':':
			path, err := r.ReadBytes(0)
			if err != nil {
				return fmt.Errorf("raw entry without path: %w", err)
			}
			h.record(cur, string(tok), string(path[:len(path)-1]), wanted)
		}
	}
}

func parseHeader(s string) sighting {
	var sg sighting
	sg.commit, s, _ = strings.Cut(s, " ")
	date, author, _ := strings.Cut(s, " ")
	sg.date, _ = time.Parse(time.RFC3339, date)
	sg.author = author
	return sg
}

// record notes one raw entry. Only the new side matters: a blob is
// introduced where it appears, and deletions name no new blob.
func (h *history) record(cur sighting, meta, path string, wanted map[string]bool) {
	f := strings.Fields(meta) // :oldmode newmode old new status
	if len(f) < 5 || f[4] == "D" {
		return
	}
	mode, blob := f[1], f[3]
	if mode == "160000" || strings.Trim(blob, "0") == "" { // submodule commit, or no blob
		return
	}
	h.referred[blob] = struct{}{}
	if wanted[blob] {
		s := cur
		s.blob, s.path = blob, path
		h.sightings[blob] = append(h.sightings[blob], s)
	}
}
