package cloudtrail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/klauspost/compress/gzip"
)

// Sink receives the events a reader decodes, one at a time, in file order.
// Returning ErrStop ends the read without an error; any other error ends
// it with that error.
type Sink func(Event) error

// ErrStop is returned by a Sink that has seen enough.
var ErrStop = errors.New("stop reading")

// Options tune every reader.
type Options struct {
	// Warn receives what was skipped: bad records (a *RecordError), files
	// that are not JSON, truncated gzip streams. nil logs them with slog.
	Warn func(error)
	// Since and Until, when set, keep only events whose EventTime is within
	// [Since, Until]; events without an eventTime are kept, since they cannot
	// be placed. Files and S3 keys in CloudTrail's layout whose delivery time
	// shows they hold nothing in the window are not read at all.
	Since, Until time.Time
	// Stdin is what the source "-" reads; nil means os.Stdin.
	Stdin io.Reader
	// Read, when set, hears of each file, object or stream read to its end
	// with no problem of its own (bad records aside): what tells a source
	// whose files held nothing from one that could not be read. It may be
	// called from several goroutines at once.
	Read func(name string)
}

func (o Options) read(name string) {
	if o.Read != nil {
		o.Read(name)
	}
}

func (o Options) warn(err error) {
	if o.Warn != nil {
		o.Warn(err)
		return
	}
	slog.Warn("cloudtrail: skipped input", "err", err)
}

// inWindow reports whether an event at t is kept.
func (o Options) inWindow(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	if !o.Since.IsZero() && t.Before(o.Since) {
		return false
	}
	return o.Until.IsZero() || !t.After(o.Until)
}

// RecordError is a record that could not be decoded; the read goes on.
// Index counts records from 0 within the file; -1 when the failure is
// about the file rather than one record.
type RecordError struct {
	File  string
	Index int
	Err   error
}

func (e *RecordError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: record %d: %v", e.File, e.Index, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// maxLine bounds one JSON Lines record; CloudTrail caps a record at 256 KB,
// so anything near this is hostile and is skipped, not buffered.
const maxLine = 8 << 20

// ReadFile reads one file of CloudTrail records (see ReadReader for the
// formats). Undecodable records are warned about and skipped.
func ReadFile(ctx context.Context, path string, opts Options, sink Sink) error {
	return stopIsDone(readFile(ctx, path, opts, sink))
}

func readFile(ctx context.Context, path string, opts Options, sink Sink) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read cloudtrail file: %w", err)
	}
	defer f.Close()
	return readStream(ctx, f, path, opts, sink)
}

// stopIsDone turns a Sink's ErrStop into the success it means.
func stopIsDone(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// ReadReader reads CloudTrail records from r, named name in warnings. The
// stream may be gzip-compressed (detected by its magic number, not a name)
// and hold a CloudTrail log file ({"Records":[...]}), a JSON array of
// records, JSON Lines, or EventBridge envelopes of records (one per line or
// in an array). Nothing is held in memory beyond one record at a time.
func ReadReader(ctx context.Context, r io.Reader, name string, opts Options, sink Sink) error {
	return stopIsDone(readStream(ctx, r, name, opts, sink))
}

func readStream(ctx context.Context, r io.Reader, name string, opts Options, sink Sink) error {
	bufs := streamPool.Get().(*streamBuffers)
	defer streamPool.Put(bufs)
	br := bufs.raw
	br.Reset(r)
	defer br.Reset(nil) // hold no reference to the stream in the pool
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if err := bufs.unzip.Reset(br); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the magic was there: the header is cut short
			}
			opts.warn(&RecordError{File: name, Index: -1, Err: fmt.Errorf("gzip: %w", err)})
			return nil
		}
		br = bufs.unzipped
		br.Reset(&bufs.unzip)
	}
	rd := &reader{ctx: ctx, name: name, opts: opts, sink: sink, bufs: bufs}
	if err := rd.run(br); err != nil {
		return err
	}
	rd.end()
	return nil
}

// streamBuffers are what reading one stream needs, kept between streams:
// CloudTrail delivers many small files, and allocating these afresh for
// each cost more than decoding it.
type streamBuffers struct {
	raw, unzipped *bufio.Reader
	unzip         gzip.Reader
	window        []byte // the parser's input buffer (see input)
	names         names
	slab          []byte
}

var streamPool = sync.Pool{New: func() any {
	return &streamBuffers{
		raw:      bufio.NewReaderSize(nil, 64<<10),
		unzipped: bufio.NewReaderSize(nil, 64<<10),
		window:   make([]byte, inputWindow),
	}
}}

// reader carries one stream's state through the format-specific loops.
type reader struct {
	ctx   context.Context
	name  string
	opts  Options
	sink  Sink
	index int // records seen so far, good or bad
	bufs  *streamBuffers
	// failed: the stream could not be read to its end (broken JSON, a
	// truncated gzip, not JSON at all); foreign counts records that are
	// JSON objects but not CloudTrail's.
	failed  bool
	foreign int
}

// end says what the stream held that was not CloudTrail, once, and tells
// opts.Read of a stream read whole.
func (rd *reader) end() {
	switch {
	case rd.foreign > 0 && rd.foreign == rd.index:
		what := fmt.Sprintf("none of its %d records has an eventName or eventSource", rd.index)
		if rd.index == 1 {
			what = "its one record has neither an eventName nor an eventSource"
		}
		rd.fileWarn(fmt.Errorf("no CloudTrail records: %s", what))
	case rd.foreign > 0:
		rd.opts.warn(&RecordError{File: rd.name, Index: -1,
			Err: fmt.Errorf("%d of %d records skipped: not CloudTrail records (no eventName or eventSource)", rd.foreign, rd.index)})
	}
	if !rd.failed {
		rd.opts.read(rd.name)
	}
}

// run detects the format from the first bytes and reads accordingly.
func (rd *reader) run(br *bufio.Reader) error {
	first, err := firstByte(br)
	if err != nil {
		if err != io.EOF {
			rd.fileWarn(err)
		}
		return nil // empty input holds no records
	}
	switch {
	case wideText(br):
		rd.fileWarn(errors.New("not JSON in UTF-8: UTF-16 or UTF-32 text, or binary (convert text with e.g. iconv -f UTF-16 -t UTF-8)"))
		return nil
	case first == '[':
		return rd.readValues(br)
	case first != '{':
		rd.fileWarn(fmt.Errorf("not JSON: starts with %q", first))
		return nil
	case startsWithRecordsKey(br):
		return rd.readValues(br)
	}
	if line, err := br.Peek(peekLine(br)); err == nil || err == io.EOF || err == bufio.ErrBufferFull {
		if isOneLineValue(line) {
			return rd.readLines(br)
		}
	}
	return rd.readValues(br)
}

// deliver hands a decoded record to the sink, or warns about the record
// that could not be decoded (err).
func (rd *reader) deliver(ev Event, err error) error {
	idx := rd.index
	rd.index++
	if err := rd.ctx.Err(); err != nil {
		return err
	}
	if err != nil {
		rd.opts.warn(&RecordError{File: rd.name, Index: idx, Err: err})
		return nil
	}
	if ev.EventName == "" && ev.EventSource == "" { // JSON, but no API call CloudTrail recorded
		rd.foreign++
		return nil
	}
	if !rd.opts.inWindow(ev.EventTime) {
		return nil
	}
	return rd.sink(ev)
}

func (rd *reader) fileWarn(err error) {
	rd.failed = true
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated after %s: %w", english.Count(rd.index, "record"), err)
	}
	rd.opts.warn(&RecordError{File: rd.name, Index: -1, Err: err})
}

// firstByte skips whitespace and a UTF-8 byte-order mark and returns the
// first significant byte without consuming it.
func firstByte(br *bufio.Reader) (byte, error) {
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(b) {
			return b, br.UnreadByte()
		}
	}
}

// wideText reports whether br starts as UTF-16 or UTF-32 text does (a byte
// order mark, or a NUL beside the first character; PowerShell's '>' writes
// UTF-16), or binary with a NUL: a reason more useful than the first byte.
func wideText(br *bufio.Reader) bool {
	head, _ := br.Peek(2)
	return len(head) == 2 && (head[0] == 0xfe || head[0] == 0xff || head[0] == 0 || head[1] == 0)
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// startsWithRecordsKey reports whether the object at the head of br opens
// with the "Records" key, as every CloudTrail log file does.
func startsWithRecordsKey(br *bufio.Reader) bool {
	head, _ := br.Peek(256)
	head = bytes.TrimLeft(head[1:], " \t\r\n")
	return bytes.HasPrefix(head, []byte(`"Records"`))
}

// peekLine returns how many bytes of the first line br can show without
// reading past its buffer.
func peekLine(br *bufio.Reader) int {
	buf, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		return i
	}
	return len(buf)
}

// isOneLineValue reports whether line is a whole JSON value: then the
// input is JSON Lines, read line by line so one bad line loses only itself.
// Otherwise it is a value spread over lines (a pretty-printed record).
func isOneLineValue(line []byte) bool {
	return validValue(bytes.TrimSpace(line))
}
