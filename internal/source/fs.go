// Package source reads the places keys leak into — files, directories,
// archives, stdin — and hands their bytes to the detector.
package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/scan"
)

// FSOptions tune a file-system scan.
type FSOptions struct {
	// Skip reports whether a path (slash-separated, relative to the scanned root) is allowlisted away.
	// When the root is a single file, Skip sees that file's path as the user wrote it.
	Skip func(rel string) bool
	// MaxArchiveDepth bounds archives inside archives (0 = DefaultMaxArchiveDepth).
	MaxArchiveDepth int
	// Limits bound the work per top-level archive (zero fields = defaults).
	Limits ArchiveLimits
	// Workers is the number of files scanned at once (0 = GOMAXPROCS).
	Workers int
	// StreamThreshold: files larger than this are streamed through the
	// detector instead of read whole (0 = DefaultStreamThreshold).
	StreamThreshold int64
}

// DefaultStreamThreshold was measured with BenchmarkScanFS: one detector call
// over a file read whole beats streaming it for files up to the detector's
// own streaming window (2 MiB); streaming every file was 10x slower. It also
// bounds each worker's buffer.
const DefaultStreamThreshold = 2 << 20

// ScanFS scans a file or a directory tree.
//
// Symbolic links are never followed (except a root the user named), so a
// scan cannot leave the tree or loop; .git directories are skipped because
// the git source scans history on its own; devices, sockets and pipes in the
// tree are never opened (a pipe would block). A root that is a pipe, as in
// `scan <(cmd)`, is read like stdin. Files are scanned in parallel; findings
// go to env.Sink in no particular order.
func ScanFS(ctx context.Context, root string, opts FSOptions, env scan.Env) error {
	env = withDefaults(env)
	fi, err := os.Stat(root)
	if err != nil {
		return rootErr(root, err)
	}
	s := newFSScanner(ctx, opts, env)
	disp := path.Clean(filepath.ToSlash(root))
	if !fi.IsDir() {
		if opts.Skip != nil && opts.Skip(disp) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return scanNamedStream(ctx, root, disp, opts, env)
		}
		if err := s.scanFile(root, disp); err != nil {
			return err // "read <root>: why"
		}
		return ctx.Err()
	}
	// A root given as a symlink to a directory is walked as that directory.
	walkRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return rootErr(root, err)
	}
	return s.walk(walkRoot, root, disp)
}

// rootErr is the one-line error for a root that cannot be scanned: a gap
// of the root, so that a scan of several roots goes on past it.
func rootErr(root string, err error) error {
	return gap.New(root, bareErr(err))
}

// readErr is the gap of a file that cannot be read, named as the user sees it.
func readErr(disp string, err error) error {
	return gap.New(disp, bareErr(err))
}

// bareErr drops an os error's operation and path, which the caller names itself.
func bareErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// withDefaults lets callers leave Stats and Warn unset.
func withDefaults(env scan.Env) scan.Env {
	if env.Stats == nil {
		env.Stats = &scan.Stats{}
	}
	if env.Warn == nil {
		env.Warn = func(error) {}
	}
	if env.Detector == nil {
		env.Detector = scan.NewDetector()
	}
	return env
}

type fsScanner struct {
	ctx  context.Context
	opts FSOptions
	env  scan.Env
	bufs sync.Pool // *[]byte, for files read whole
}

func newFSScanner(ctx context.Context, opts FSOptions, env scan.Env) *fsScanner {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.StreamThreshold <= 0 {
		opts.StreamThreshold = DefaultStreamThreshold
	}
	return &fsScanner{ctx: ctx, opts: opts, env: env}
}

type fileJob struct{ abs, disp string }

// walk lists the tree in one goroutine and scans files in opts.Workers
// others. Every regular file is sent exactly once, so no finding is lost or
// duplicated whatever the scheduling.
func (s *fsScanner) walk(walkRoot, userRoot, disp string) error {
	jobs := make(chan fileJob, 256)
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() {
			for j := range jobs {
				if s.ctx.Err() != nil {
					continue // drain
				}
				if err := s.scanFile(j.abs, j.disp); err != nil {
					s.env.Stats.Skipped.Add(1)
					s.env.Warn(err)
				}
			}
		})
	}
	err := filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if cerr := s.ctx.Err(); cerr != nil {
			return cerr
		}
		rel, _ := filepath.Rel(walkRoot, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			if rel == "." {
				return rootErr(userRoot, err)
			}
			s.env.Stats.Skipped.Add(1)
			s.env.Warn(readErr(path.Join(disp, rel), err))
			return nil
		}
		if rel == "." {
			return nil
		}
		return s.visit(d, rel, p, disp, jobs)
	})
	close(jobs)
	wg.Wait()
	if err != nil {
		return err
	}
	return s.ctx.Err()
}

// visit decides what to do with one directory entry.
func (s *fsScanner) visit(d fs.DirEntry, rel, abs, disp string, jobs chan<- fileJob) error {
	if d.IsDir() {
		if d.Name() == ".git" || (s.opts.Skip != nil && s.opts.Skip(rel)) {
			return filepath.SkipDir
		}
		return nil
	}
	if !d.Type().IsRegular() {
		return nil // symlink, device, socket, pipe
	}
	if s.opts.Skip != nil && s.opts.Skip(rel) {
		return nil
	}
	select {
	case jobs <- fileJob{abs: abs, disp: path.Join(disp, rel)}:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// scanFile scans one regular file: read whole and scanned in one call when
// small, streamed when big; archives are opened, binaries passed over.
func (s *fsScanner) scanFile(abs, disp string) error {
	f, err := os.Open(abs)
	if err != nil {
		return readErr(disp, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return readErr(disp, err)
	}
	if !fi.Mode().IsRegular() {
		return nil // replaced by something else since the walk saw it
	}
	if fi.Size() <= s.opts.StreamThreshold {
		return s.scanSmall(f, fi.Size(), disp)
	}
	return s.scanBig(f, fi.Size(), disp)
}

func (s *fsScanner) scanSmall(f *os.File, size int64, disp string) error {
	bp := s.getBuf(int(size) + 1)
	defer s.bufs.Put(bp)
	// Read one byte past the size we were told, in case the file grew.
	n, err := io.ReadFull(f, (*bp)[:size+1])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return readErr(disp, err)
	}
	if int64(n) > size {
		_, _ = f.Seek(0, io.SeekStart)
		return s.scanBig(f, size, disp)
	}
	data := (*bp)[:n]
	loc := scan.Location{Source: "file", Path: disp, InHead: true}
	switch k := sniff(data); {
	case k != kindPlain:
		run := newArchiveRun(s.ctx, s.env, s.opts, disp, "file")
		run.scanTop(k, bytes.NewReader(data), bytes.NewReader(data), int64(n))
	case isBinary(data):
		s.env.Stats.Skipped.Add(1)
	default:
		s.env.ScanBytes(data, loc)
	}
	return nil
}

func (s *fsScanner) getBuf(n int) *[]byte {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil || cap(*bp) < n {
		b := make([]byte, n)
		return &b
	}
	*bp = (*bp)[:cap(*bp)]
	return bp
}

func (s *fsScanner) scanBig(f *os.File, size int64, disp string) error {
	br := bufio.NewReaderSize(ctxReader{s.ctx, f}, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return readErr(disp, err)
	}
	switch k := sniff(head); {
	case k == kindZip:
		run := newArchiveRun(s.ctx, s.env, s.opts, disp, "file")
		run.scanTop(k, br, f, size)
	case k != kindPlain:
		run := newArchiveRun(s.ctx, s.env, s.opts, disp, "file")
		run.scanTop(k, br, nil, size)
	case isBinary(head):
		s.env.Stats.Skipped.Add(1)
	default:
		loc := scan.Location{Source: "file", Path: disp, InHead: true}
		if err := s.env.ScanReader(br, loc); err != nil && s.ctx.Err() == nil {
			return readErr(disp, err)
		}
	}
	return nil
}
