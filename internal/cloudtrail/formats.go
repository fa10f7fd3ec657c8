package cloudtrail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errBroken ends a stream whose JSON is broken past recovery (a syntax
// error, a truncated gzip); it has been warned about already.
var errBroken = errors.New("broken stream")

// input is a window on a stream for the parser: buf[pos:end] is unread.
// The buffer is reused, since a record is copied out once decoded.
// names and slab serve the parser (see parser).
type input struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	names    *names
	slab     *[]byte
	p        parser // reused by every step: a parser per step cost an allocation
}

// inputWindow is the first buffer size; it grows to hold a record of up
// to maxLine bytes.
const inputWindow = 256 << 10

// step runs parse on the unread input. When the input ends inside the
// step, it reads more and runs parse again from the same place; at the end
// of the stream that is io.ErrUnexpectedEOF.
func (in *input) step(parse func(p *parser) error) error {
	for {
		p := &in.p
		*p = parser{data: in.buf[:in.end], pos: in.pos, names: in.names, slab: in.slab}
		err := parse(p)
		if !errors.Is(err, errMore) {
			in.pos = p.pos
			return err
		}
		if in.eof {
			return io.ErrUnexpectedEOF
		}
		if err := in.fill(); err != nil {
			return err
		}
	}
}

// peek returns the next significant byte, io.EOF at the end of the stream.
// A stream that fails to read on (a gzip stream cut short) is that error.
func (in *input) peek() (byte, error) {
	var c byte
	err := in.step(func(p *parser) (err error) { c, err = p.peek(); return err })
	if err == io.ErrUnexpectedEOF { // step's: the input ended between values
		return 0, io.EOF
	}
	return c, err
}

// streamError is a read of the stream itself that failed, told apart from
// the parser running out of input.
type streamError struct{ err error }

func (e *streamError) Error() string { return e.err.Error() }
func (e *streamError) Unwrap() error { return e.err }

// fill moves the unread bytes to the front and reads more, growing the
// buffer when one value fills it.
func (in *input) fill() error {
	in.end = copy(in.buf, in.buf[in.pos:in.end])
	in.pos = 0
	if in.end == len(in.buf) {
		if len(in.buf) >= maxLine {
			return fmt.Errorf("a record larger than %d MiB, the most one record may hold", maxLine>>20)
		}
		in.buf = append(in.buf, make([]byte, len(in.buf))...)
	}
	n, err := in.r.Read(in.buf[in.end:])
	in.end += n
	if err == io.EOF {
		in.eof = true
		return nil
	}
	if err != nil {
		return &streamError{err}
	}
	return nil
}

// readValues reads a stream of top-level JSON values: CloudTrail log files
// ({"Records":[...]}), arrays of records, and records, one after another.
// Only one record is held at a time, however large the file.
func (rd *reader) readValues(r io.Reader) error {
	in := &input{r: r, buf: rd.bufs.window, names: &rd.bufs.names, slab: &rd.bufs.slab}
	err := rd.valueLoop(in) // a grown buffer is not kept for the next stream
	if errors.Is(err, errBroken) {
		return nil
	}
	return err
}

func (rd *reader) valueLoop(in *input) error {
	for {
		c, err := in.peek()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return rd.broken(err)
		}
		switch {
		case c == '[':
			err = rd.array(in)
		case c == '{' && rd.recordsKey(in):
			err = rd.logFile(in)
		default:
			err = rd.record(in)
		}
		if err != nil {
			return err
		}
	}
}

// broken warns about a stream that cannot be read further.
func (rd *reader) broken(err error) error {
	rd.fileWarn(err)
	return errBroken
}

// array reads an array of records (or EventBridge envelopes) at the input.
func (rd *reader) array(in *input) error {
	if err := in.step(func(p *parser) error { return p.enter('[') }); err != nil {
		return rd.broken(err)
	}
	if c, err := in.peek(); err != nil {
		return rd.broken(io.ErrUnexpectedEOF)
	} else if c == ']' {
		in.pos++
		return nil
	}
	for {
		if err := rd.record(in); err != nil {
			return err
		}
		var done bool
		err := in.step(func(p *parser) (err error) { done, err = p.next(']', "after array element"); return err })
		if err != nil {
			return rd.broken(err)
		}
		if done {
			return nil
		}
	}
}

// record decodes one record at the input and hands it on; a record of the
// wrong shape is warned about and skipped, broken JSON ends the stream.
func (rd *reader) record(in *input) error {
	var ev Event
	var bad error
	err := in.step(func(p *parser) error {
		var err error
		ev, err = p.record(true)
		if err != nil && !isFatal(err) {
			bad, err = fmt.Errorf("decode record: %w", err), nil
		}
		return err
	})
	if err != nil {
		return rd.broken(err)
	}
	return rd.deliver(ev, bad)
}

// recordsKey consumes the head of a CloudTrail log file, `{"Records":`,
// when the object at the input opens with it; otherwise it consumes nothing.
func (rd *reader) recordsKey(in *input) bool {
	var found bool
	in.step(func(p *parser) error {
		start := p.pos
		p.pos++ // the '{'
		var err error
		if found, err = p.key("Records"); errors.Is(err, errMore) {
			return err
		}
		if !found {
			p.pos = start // a record: its own parse reports any error
		}
		return nil
	})
	return found
}

// logFile streams the "Records" array whose key recordsKey consumed, then
// skips the rest of the log file's object (CloudTrail writes no other key,
// others might).
func (rd *reader) logFile(in *input) error {
	c, err := in.peek()
	if err != nil {
		return rd.broken(io.ErrUnexpectedEOF)
	}
	if c == '[' {
		err = rd.array(in)
	} else {
		rd.opts.warn(&RecordError{File: rd.name, Index: rd.index, Err: errors.New(`"Records" is not an array`)})
		rd.index++
		err = rd.skip(in)
	}
	if err != nil {
		return err
	}
	for {
		var done bool
		err := in.step(func(p *parser) (err error) {
			if done, err = p.next('}', "after object key:value pair"); done || err != nil {
				return err
			}
			return p.skipMember()
		})
		if err != nil {
			return rd.broken(err)
		}
		if done {
			return nil
		}
	}
}

// skip consumes one value at the input.
func (rd *reader) skip(in *input) error {
	if err := in.step(func(p *parser) error { return p.skip() }); err != nil {
		return rd.broken(err)
	}
	return nil
}

// readLines reads JSON Lines: one record, envelope, array or log file per
// line. A bad line is warned about and the next one is read.
func (rd *reader) readLines(br *bufio.Reader) error {
	for {
		line, tooLong, err := readLine(br)
		if tooLong {
			rd.opts.warn(&RecordError{File: rd.name, Index: rd.index, Err: fmt.Errorf("line longer than %d MiB, the most one record may hold", maxLine>>20)})
			rd.index++
		} else if line = bytes.TrimSpace(line); len(line) > 0 {
			if err := rd.emitLine(line); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			rd.fileWarn(err)
			return nil
		}
	}
}

// emitLine hands one line to the sink; a line holding several records (an
// array or a log file) is expanded.
func (rd *reader) emitLine(line []byte) error {
	if line[0] == '[' || line[0] == '{' && startsWithRecordsKey(bufio.NewReader(bytes.NewReader(line))) {
		return rd.readValues(bytes.NewReader(line))
	}
	p := parser{data: line, names: &rd.bufs.names, slab: &rd.bufs.slab}
	ev, err := p.wholeRecord()
	return rd.deliver(ev, err)
}

// readLine returns the next line. A line longer than maxLine is consumed
// but not kept (tooLong).
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > maxLine {
				tooLong, line = true, nil
			}
		}
		if err != bufio.ErrBufferFull {
			return line, tooLong, err
		}
	}
}
