package cloudtrail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"io"
)

// errBroken ends a stream whose JSON is broken past recovery (a syntax
// error, a truncated gzip); it has been warned about already.
var errBroken = errors.New("broken stream")

// readValues reads a stream of top-level JSON values with a token decoder,
// so a CloudTrail log file or a JSON array is streamed record by record
// instead of being held whole.
func (rd *reader) readValues(r io.Reader) error {
	dec := json.NewDecoder(r)
	err := rd.valueLoop(dec)
	if errors.Is(err, errBroken) {
		return nil
	}
	return err
}

func (rd *reader) valueLoop(dec *json.Decoder) error {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return rd.broken(err)
		}
		switch tok {
		case json.Delim('['):
			err = rd.streamArray(dec)
		case json.Delim('{'):
			err = rd.streamObject(dec)
		default:
			rd.opts.warn(&RecordError{File: rd.name, Index: rd.index, Err: fmt.Errorf("not a record: %v", tok)})
			rd.index++
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

// streamArray reads the elements of an array whose '[' has been consumed;
// each is a record or an EventBridge envelope.
func (rd *reader) streamArray(dec *json.Decoder) error {
	for dec.More() {
		var raw json.RawMessage // fresh each time: Event.Raw keeps it
		if err := dec.Decode(&raw); err != nil {
			return rd.broken(err)
		}
		if err := rd.emit(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return rd.broken(err)
	}
	return nil
}

// streamObject reads an object whose '{' has been consumed. With a leading
// "Records" key it is a CloudTrail log file and is streamed; otherwise it is
// one record, rebuilt key by key (whitespace aside, the same JSON).
func (rd *reader) streamObject(dec *json.Decoder) error {
	var rebuilt bytes.Buffer
	rebuilt.WriteByte('{')
	for first := true; dec.More(); first = false {
		tok, err := dec.Token()
		if err != nil {
			return rd.broken(err)
		}
		key, _ := tok.(string)
		if first && key == "Records" {
			return rd.streamRecordsValue(dec)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return rd.broken(err)
		}
		if !first {
			rebuilt.WriteByte(',')
		}
		quoted, _ := json.Marshal(key)
		rebuilt.Write(quoted)
		rebuilt.WriteByte(':')
		rebuilt.Write(value)
		if rebuilt.Len() > maxLine {
			return rd.broken(fmt.Errorf("record %d larger than %d bytes", rd.index, maxLine))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return rd.broken(err)
	}
	rebuilt.WriteByte('}')
	return rd.emit(rebuilt.Bytes())
}

// skipValue consumes the rest of a value whose first token was tok.
func skipValue(dec *json.Decoder, tok json.Token) error {
	depth := 0
	for {
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			return err
		}
	}
}

// streamRecordsValue streams the "Records" array, then skips the rest of
// the log file's object (CloudTrail writes no other key, others might).
func (rd *reader) streamRecordsValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return rd.broken(err)
	}
	if tok != json.Delim('[') {
		rd.opts.warn(&RecordError{File: rd.name, Index: rd.index, Err: errors.New(`"Records" is not an array`)})
		rd.index++
		if err := skipValue(dec, tok); err != nil {
			return rd.broken(err)
		}
	} else if err := rd.streamArray(dec); err != nil {
		return err
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // a key
			return rd.broken(err)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return rd.broken(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
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
			rd.opts.warn(&RecordError{File: rd.name, Index: rd.index, Err: fmt.Errorf("line longer than %d bytes", maxLine)})
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
	if line[0] != '[' && !(line[0] == '{' && startsWithRecordsKey(bufio.NewReader(bytes.NewReader(line)))) {
		return rd.emit(line)
	}
	err := rd.valueLoop(json.NewDecoder(bytes.NewReader(line)))
	if errors.Is(err, errBroken) {
		return nil
	}
	return err
}

// readLine returns the next line as a fresh slice. A line longer than
// maxLine is consumed but not kept (tooLong).
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
