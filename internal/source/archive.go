package source

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/scan"
)

// archiveRun scans one top-level archive and everything nested in it. Its
// counters are what the limits apply to; it is used by one goroutine.
type archiveRun struct {
	ctx       context.Context
	env       scan.Env
	lim       ArchiveLimits
	maxDepth  int
	top       string // display path of the top-level archive, for warnings
	source    string // Location.Source of content not inside a container (file | stdin)
	expanded  int64
	members   int
	stop      error // set once a limit or a truncation ends the whole run
	lastLimit *limitError
	small     int64           // members up to this size are read whole
	buf       []byte          // reused for those
	in        *countingReader // the top-level input: where it ended
	// cut is a member that ended early, held until its container tells
	// whether the member was bad or the container itself is truncated.
	cut *gap.Err
	// limits counts the members past each per-member limit: after the
	// first, said naming its member, the rest are said once, as a count.
	limits map[string]*limitCount
}

type limitCount struct {
	max int64
	n   int
}

func newArchiveRun(ctx context.Context, env scan.Env, opts FSOptions, top, source string) *archiveRun {
	depth := opts.MaxArchiveDepth
	if depth <= 0 {
		depth = DefaultMaxArchiveDepth
	}
	small := opts.StreamThreshold
	if small <= 0 {
		small = DefaultStreamThreshold
	}
	return &archiveRun{ctx: ctx, env: env, lim: opts.Limits.withDefaults(), maxDepth: depth, top: top, source: source, small: small}
}

// scanTop opens content already known to be an archive of kind k. ra/size
// give random access when the caller has it (a file on disk), else nil/-1.
func (a *archiveRun) scanTop(k kind, r io.Reader, ra io.ReaderAt, size int64) {
	defer func() {
		// Defence in depth: a bug in a decoder must cost one archive, not the scan.
		if p := recover(); p != nil {
			a.warn(a.top, fmt.Errorf("internal error: %v", p))
		}
	}()
	a.in = &countingReader{r: r}
	a.open(k, a.in, ra, size, a.top, 1)
	a.flushCut()
	a.sayLimitCounts()
}

// limited counts a member past a per-member limit and reports whether it
// was already said for another member of this archive: a bomb of many
// members is a few warnings, not one a member.
func (a *archiveRun) limited(le *limitError) bool {
	if a.limits == nil {
		a.limits = map[string]*limitCount{}
	}
	c := a.limits[le.limit]
	if c == nil {
		a.limits[le.limit] = &limitCount{max: le.max}
		return false
	}
	c.n++
	a.env.Stats.Skipped.Add(1)
	return true
}

// sayLimitCounts warns once per limit about the members not named.
func (a *archiveRun) sayLimitCounts() {
	for _, name := range slices.Sorted(maps.Keys(a.limits)) {
		if c := a.limits[name]; c.n > 0 {
			a.warn(a.top, fmt.Errorf("%w: %s over %d in %s", ErrLimit, name, c.max, english.Count(c.n, "more member")))
		}
	}
}

// open reads one archive at nesting level depth (the top level is 1).
func (a *archiveRun) open(k kind, r io.Reader, ra io.ReaderAt, size int64, path string, depth int) {
	switch k {
	case kindZip:
		a.openZip(r, ra, size, path, depth)
	case kindTar:
		a.openTar(r, path, depth)
	default:
		a.openCompressed(k, r, path, depth)
	}
}

// openZip needs random access; without it the zip is buffered first.
func (a *archiveRun) openZip(r io.Reader, ra io.ReaderAt, size int64, path string, depth int) {
	if ra == nil {
		buf, err := bufferZip(a.ctx, r, a.lim)
		if err != nil {
			a.fail(path, err)
			return
		}
		defer buf.close()
		ra, size = buf.ra, buf.size
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // we never extract, so "../x" names are harmless
		a.fail(path, err) // archive/zip's errors start "zip: "
		return
	}
	for _, f := range zr.File {
		if a.stop != nil || !a.admit(path) {
			return
		}
		if f.FileInfo().IsDir() || !f.Mode().IsRegular() {
			continue
		}
		a.zipMember(f, path+"!"+f.Name, depth)
	}
}

func (a *archiveRun) zipMember(f *zip.File, path string, depth int) {
	if f.UncompressedSize64 > uint64(a.lim.MaxMember) {
		a.fail(path, &limitError{limit: "member size", max: a.lim.MaxMember})
		return
	}
	rc, err := f.Open()
	if err != nil {
		a.fail(path, err)
		return
	}
	defer rc.Close()
	compressed := int64(f.CompressedSize64)
	g := &guardReader{ctx: a.ctx, r: zipMemberReader{rc}, run: a, max: a.lim.MaxMember, in: func() int64 { return compressed }}
	a.member(g, path, depth)
}

// errZipOversize is a zip member that holds more than its headers declare:
// a bomb hiding behind a small declared size, or a damaged zip.
var errZipOversize = errors.New("zip: the member holds more than its header declares")

// zipMemberReader says why archive/zip stopped a member: its ErrFormat in
// mid-read means the member ran past its declared size.
type zipMemberReader struct{ r io.Reader }

func (z zipMemberReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if errors.Is(err, zip.ErrFormat) {
		err = errZipOversize
	}
	return n, err
}

func (a *archiveRun) openTar(r io.Reader, path string, depth int) {
	tr := tar.NewReader(r)
	for a.stop == nil {
		// A tar that ends between members without its end-of-archive
		// blocks has had all its bytes read: like GNU tar, no warning.
		hdr, err := tr.Next()
		switch {
		case err == io.EOF:
			return
		case errors.Is(err, io.ErrUnexpectedEOF):
			a.truncated(path, err)
			return
		case err != nil:
			a.fail(path, fmt.Errorf("read tar: %w", err))
			return
		}
		if !a.admit(path) {
			return
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeGNUSparse {
			continue // links, devices, directories: nothing of their own to read
		}
		name := path + "!" + hdr.Name
		if hdr.Size > a.lim.MaxMember {
			a.fail(name, &limitError{limit: "member size", max: a.lim.MaxMember})
			continue
		}
		a.member(ctxReader{a.ctx, tr}, name, depth)
	}
}

// openCompressed decompresses a single stream. A compressed tar is one
// archive level (x.tar.gz!member); anything else keeps the path it came with.
func (a *archiveRun) openCompressed(k kind, r io.Reader, path string, depth int) {
	cr := &countingReader{r: r}
	dec, closeDec, err := decompressor(k, cr)
	if err != nil {
		a.fail(path, fmt.Errorf("read %s: %w", k, err))
		return
	}
	defer closeDec()
	// The stream may be a whole tarball: only the total bounds its size.
	g := &guardReader{ctx: a.ctx, r: dec, run: a, max: a.lim.MaxExpanded, in: func() int64 { return cr.n }}
	br := bufio.NewReaderSize(g, sniffLen)
	head, _ := br.Peek(sniffLen)
	if sniff(head) == kindTar {
		a.openTar(br, path, depth)
		// Read the stream to its end: a gzip trailer holds the checksum, and
		// a stream cut after the tar's end-of-archive blocks would pass unseen.
		if _, err := io.Copy(io.Discard, br); err != nil && a.stop == nil {
			a.fail(path, fmt.Errorf("read %s: %w", k, err))
		}
		return
	}
	a.content(br, head, path, depth)
}

func decompressor(k kind, r io.Reader) (io.Reader, func(), error) {
	switch k {
	case kindGzip:
		zr, err := gzip.NewReader(r)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the magic bytes were there: the header was cut short
		}
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case kindZstd:
		// A zstd frame may ask for a window of gigabytes: cap it, and keep the
		// decoder single-threaded (the pool already uses every core).
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case kindBzip2:
		return bzip2.NewReader(r), func() {}, nil
	}
	return nil, nil, fmt.Errorf("not a compressed stream: %s", k)
}

// member scans one member of a container: a nested archive is opened (up to
// the depth limit), a binary one is passed over, text goes to the detector.
func (a *archiveRun) member(r io.Reader, path string, depth int) {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) && len(head) == 0 {
		a.fail(path, err)
		return
	}
	a.content(br, head, path, depth) // a member cut short: what there is is scanned, then the read fails
}

// content handles a stream whose first bytes (head) have been peeked.
func (a *archiveRun) content(br *bufio.Reader, head []byte, path string, depth int) {
	k := sniff(head)
	switch {
	case k != kindPlain && depth >= a.maxDepth:
		a.skip(path, fmt.Errorf("%s nested deeper than %d archive levels: %w", k, a.maxDepth, ErrLimit))
	case k != kindPlain:
		a.open(k, br, nil, -1, path, depth+1)
	case isBinary(head):
		a.env.Stats.Skipped.Add(1)
	default:
		a.scanText(br, path)
	}
}

// scanText reads a member whole when it is small (one detector call over a
// reused buffer is much cheaper than setting up a stream) and streams it
// otherwise.
func (a *archiveRun) scanText(br *bufio.Reader, path string) {
	loc := a.location(path)
	var eof bool
	var err error
	a.buf, eof, err = fillUpTo(br, a.buf[:0], a.small)
	switch {
	case err != nil:
		if len(a.buf) > 0 {
			a.env.ScanBytes(a.buf, loc) // what was read before the problem still counts
		}
		a.fail(path, err)
	case eof:
		a.env.ScanBytes(a.buf, loc)
	default:
		if err := a.env.ScanReader(io.MultiReader(bytes.NewReader(a.buf), br), loc); err != nil {
			a.fail(path, err)
		}
	}
}

// fillUpTo appends from r to buf until EOF or until buf holds more than max
// bytes; eof reports which.
func fillUpTo(r io.Reader, buf []byte, max int64) ([]byte, bool, error) {
	for int64(len(buf)) <= max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), int(max)+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, true, nil
		}
		if err != nil {
			return buf, false, err
		}
	}
	return buf, false, nil
}

func (a *archiveRun) location(path string) scan.Location {
	if strings.Contains(path, "!") {
		return scan.Location{Source: "archive", Path: path, InHead: true}
	}
	return scan.Location{Source: a.source, Path: path, InHead: true}
}

// admit counts one more member and stops the run past the member limit.
func (a *archiveRun) admit(path string) bool {
	a.flushCut() // its container reads on: the member alone was bad
	a.members++
	if a.members > a.lim.MaxMembers {
		a.fail(path, &limitError{limit: "member count", max: int64(a.lim.MaxMembers), fatal: true})
		return false
	}
	return true
}

// fail reports a problem with path and carries on; a fatal limit, a
// cancellation or the end of a truncated input stops the whole run.
func (a *archiveRun) fail(path string, err error) {
	if a.stop != nil {
		return // already reported why the run stopped
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		a.truncated(path, err)
		return
	}
	var le *limitError
	if errors.As(err, &le) {
		if le == a.lastLimit {
			return // a container read past a limit already reported for its member
		}
		a.lastLimit = le
		if !le.fatal && a.limited(le) {
			return
		}
	}
	if le != nil && le.fatal || a.ctx.Err() != nil {
		a.stop = err
	}
	if a.ctx.Err() != nil {
		return // cancellation is reported once, by ScanFS
	}
	a.skip(path, err)
}

func (a *archiveRun) skip(path string, err error) {
	a.env.Stats.Skipped.Add(1)
	a.warn(path, err)
}

// truncated is content at path that ends early. A member is held (cut)
// until its container reads on — the member alone was bad — or ends early
// too: then the input is truncated, which is said once, for the member it
// cut, with the byte where the input ended, and the whole run stops.
func (a *archiveRun) truncated(path string, err error) {
	cut := a.cut
	a.cut = nil
	if cut == nil && strings.HasPrefix(path, a.top+"!") {
		a.cut = &gap.Err{Source: path, Err: fmt.Errorf("truncated (%w)", err)}
		return
	}
	if cut != nil {
		path = cut.Source
	}
	reason := "truncated"
	if a.in.eof {
		reason = fmt.Sprintf("truncated: the input ends at byte %d", a.in.n)
		a.stop = err
	}
	a.skip(path, fmt.Errorf("%s (%w)", reason, err))
}

// flushCut reports a held member as bad on its own.
func (a *archiveRun) flushCut() {
	if cut := a.cut; cut != nil {
		a.cut = nil
		a.env.Stats.Skipped.Add(1)
		a.env.Warn(cut)
	}
}

// warn sends the gap of path (a member's starts with its archive's).
func (a *archiveRun) warn(path string, err error) {
	a.flushCut()
	if path == "-" {
		path = "stdin"
	}
	a.env.Warn(gap.New(path, err))
}
