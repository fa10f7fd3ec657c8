package git

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/scan"
)

const (
	chunkSize   = 512     // blob ids handed to a reader at a time: small enough to balance the workers
	maxInMemory = 8 << 20 // larger blobs are streamed through the detector instead of buffered
	binaryProbe = 8 << 10 // a NUL in this many leading bytes marks a blob as binary, as git does
)

// inventory is what the object database holds, read once in pack order.
type inventory struct {
	blobs   []string             // blob ids in pack order (keeps git's delta base cache warm)
	has     func(id string) bool // whether the repository holds a blob, to spot those history names but it lacks
	commits []string             // every commit, reachable or not: the tips of the history pass
}

// listObjects lists every object in packs and loose, reachable or not.
func listObjects(ctx context.Context, g *gitCmd) (*inventory, error) {
	cmd := g.command(ctx, "cat-file", "--batch-all-objects", "--unordered",
		"--batch-check=%(objectname) %(objecttype)")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	present := make(map[string]struct{})
	inv := &inventory{has: func(id string) bool { _, ok := present[id]; return ok }}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, typ, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if !ok {
			continue
		}
		switch string(typ) {
		case "blob":
			s := string(id)
			inv.blobs = append(inv.blobs, s)
			present[s] = struct{}{}
		case "commit":
			inv.commits = append(inv.commits, string(id))
		}
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return nil, gitError([]string{"cat-file"}, err, stderr.Bytes())
	}
	if scanErr != nil {
		return nil, fmt.Errorf("list objects: %w", scanErr)
	}
	return inv, nil
}

// blobHits collects the matches found in each blob, keyed by blob id.
type blobHits struct {
	mu      sync.Mutex
	hits    map[string][]scan.Match
	missing []string
	damaged []string // objects cat-file died on
}

func (h *blobHits) add(id string, ms []scan.Match) {
	h.mu.Lock()
	h.hits[id] = append(h.hits[id], ms...)
	h.mu.Unlock()
}

func (h *blobHits) addMissing(id string) {
	h.mu.Lock()
	h.missing = append(h.missing, id)
	h.mu.Unlock()
}

func (h *blobHits) addDamaged(id string) {
	h.mu.Lock()
	h.damaged = append(h.damaged, id)
	h.mu.Unlock()
}

// scanBlobs reads every blob once, through one `git cat-file --batch` per
// core fed from a shared queue of pack-ordered chunks, and runs the detector
// over each in memory.
func scanBlobs(ctx context.Context, g *gitCmd, ids []string, env scan.Env) (*blobHits, error) {
	hits := &blobHits{hits: make(map[string][]scan.Match)}
	chunks := make(chan []string)
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() error {
		defer close(chunks)
		for len(ids) > 0 {
			n := min(chunkSize, len(ids))
			select {
			case chunks <- ids[:n]:
			case <-gctx.Done():
				return gctx.Err()
			}
			ids = ids[n:]
		}
		return nil
	})
	for range max(1, runtime.GOMAXPROCS(0)) {
		grp.Go(func() error { return catWorker(gctx, g, chunks, env, hits) })
	}
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	return hits, nil
}

// maxCatRestarts bounds how many times in a row one worker starts cat-file
// again after it died on an object with none answered since: damaged
// objects cost only themselves, a git that cannot read anything stops the
// scan.
const maxCatRestarts = 16

// catWorker reads the chunks it takes through `git cat-file --batch`. An
// object cat-file cannot read (a pack that lies about a size, a corrupt
// delta) makes git exit: that object is recorded as damaged and a new
// cat-file process reads the ids the dead one had not answered.
func catWorker(ctx context.Context, g *gitCmd, chunks <-chan []string, env scan.Env, hits *blobHits) error {
	var carry []string
	for deaths := 0; ; {
		rest, answered, err := catProcess(ctx, g, carry, chunks, env, hits)
		if err != nil || rest == nil {
			return err
		}
		if answered > 0 {
			deaths = 0
		}
		if deaths++; deaths > maxCatRestarts {
			return fmt.Errorf("read blobs: git cat-file died on %d objects in a row; the last: %s", deaths, rest[0])
		}
		hits.addDamaged(rest[0])
		carry = rest[1:]
	}
}

// catProcess runs one cat-file process over carry, then over the chunks it
// takes: a writer goroutine feeds it chunk by chunk while this goroutine
// reads and scans the objects it returns. When the process dies inside an
// answer, rest holds the ids it had not answered, the one it died on first,
// and answered how many it had.
func catProcess(ctx context.Context, g *gitCmd, carry []string, chunks <-chan []string, env scan.Env, hits *blobHits) (rest []string, answered int, err error) {
	cmd := g.command(ctx, "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, fmt.Errorf("read blobs: %w", err)
	}
	stdout, pw, err := os.Pipe()
	if err != nil {
		return nil, 0, fmt.Errorf("read blobs: %w", err)
	}
	defer stdout.Close()
	growPipe(pw)
	cmd.Stdout = pw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	pw.Close() // the child holds its own copy; ours would keep EOF from ever coming
	if err != nil {
		return nil, 0, fmt.Errorf("read blobs: %w", err)
	}
	// pending carries each chunk from writer to reader, written or not: a
	// chunk taken is answered or handed back in rest. Its small buffer keeps
	// the writer at most two chunks ahead, so idle workers can still take
	// the chunks that are left.
	pending := make(chan []string, 1)
	go func() {
		defer close(pending)
		defer stdin.Close()
		w := bufio.NewWriter(stdin)
		feed := func(c []string) bool {
			for _, id := range c {
				w.WriteString(id)
				w.WriteByte('\n')
			}
			written := w.Flush() == nil
			select {
			case pending <- c:
				return written
			case <-ctx.Done():
				return false
			}
		}
		if len(carry) > 0 && !feed(carry) {
			return
		}
		for c := range chunks {
			if !feed(c) {
				return
			}
		}
	}()
	r := bufio.NewReaderSize(stdout, 1<<20)
	var buf []byte
	var readErr error
	for c := range pending {
		if readErr != nil {
			rest = append(rest, c...)
			continue
		}
		for i := range c {
			if buf, readErr = readObject(r, buf, env, hits); readErr != nil {
				rest = append(rest, c[i:]...)
				cmd.Process.Kill()
				break
			}
			answered++
		}
	}
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, 0, ctx.Err()
	case readErr != nil && (errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF)):
		return rest, answered, nil // its output ended inside an answer: it died on rest[0]
	case readErr != nil:
		return nil, 0, fmt.Errorf("read blobs: %w", readErr)
	case waitErr != nil:
		return nil, 0, gitError([]string{"cat-file"}, waitErr, stderr.Bytes())
	}
	return nil, answered, nil
}

// readObject reads one `cat-file --batch` reply and scans it. buf is reused
// between calls to spare the allocator 170,000 blob-sized buffers.
func readObject(r *bufio.Reader, buf []byte, env scan.Env, hits *blobHits) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return buf, fmt.Errorf("object header: %w", err)
	}
	fields := bytes.Fields(line)
	if len(fields) == 2 && string(fields[1]) == "missing" {
		hits.addMissing(string(fields[0]))
		return buf, nil
	}
	if len(fields) != 3 {
		return buf, fmt.Errorf("unexpected object header %q", bytes.TrimSpace(line))
	}
	id := string(fields[0])
	size, err := strconv.ParseInt(string(fields[2]), 10, 64)
	if err != nil || size < 0 {
		return buf, fmt.Errorf("object %s: bad size", id)
	}
	if string(fields[1]) != "blob" { // the pack reader's leftovers are of any type
		_, err := r.Discard(int(size) + 1)
		return buf, err
	}
	if size > maxInMemory {
		return buf, scanLarge(r, id, size, env, hits)
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	data := buf[:size]
	if _, err := io.ReadFull(r, data); err != nil {
		return buf, fmt.Errorf("object %s: %w", id, err)
	}
	if _, err := r.Discard(1); err != nil { // the LF after the content
		return buf, fmt.Errorf("object %s: %w", id, err)
	}
	if isBinary(data) {
		countSkipped(env)
		return buf, nil
	}
	if ms := env.Detector.Find(data); len(ms) > 0 {
		hits.add(id, ms)
	}
	countScanned(env, size)
	return buf, nil
}

// scanLarge streams a big blob through the detector in bounded memory.
func scanLarge(r *bufio.Reader, id string, size int64, env scan.Env, hits *blobHits) error {
	head, _ := r.Peek(binaryProbe)
	body := io.LimitReader(r, size)
	if isBinary(head) {
		countSkipped(env)
	} else {
		var ms []scan.Match
		if _, err := env.Detector.FindReader(body, func(m scan.Match) { ms = append(ms, m) }); err != nil {
			return fmt.Errorf("object %s: %w", id, err)
		}
		if len(ms) > 0 {
			hits.add(id, ms)
		}
		countScanned(env, size)
	}
	if _, err := io.Copy(io.Discard, body); err != nil { // whatever the detector left unread
		return fmt.Errorf("object %s: %w", id, err)
	}
	_, err := r.Discard(1)
	return err
}

func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), binaryProbe)], 0) >= 0
}

func countSkipped(env scan.Env) {
	if env.Stats != nil {
		env.Stats.Skipped.Add(1)
	}
}

func countScanned(env scan.Env, size int64) {
	if env.Stats != nil {
		env.Stats.Objects.Add(1)
		env.Stats.Bytes.Add(size)
	}
}
