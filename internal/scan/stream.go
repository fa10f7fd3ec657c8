package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Streaming: the content is read into a window of chunk new bytes plus a
// margin on each side. Matches are reported only when their position lies in
// the window's own part (between the previous cut and margin bytes before its
// end); because no decision looks further than limits.radius() < margin,
// each match is seen exactly as Find sees it, once.
const (
	defaultChunk  = 2 << 20
	defaultMargin = 64 << 10
)

// stream is FindReader with explicit window sizes, so tests can move the
// window edges over every byte.
func (d *Detector) stream(r io.Reader, fn func(Match), chunk, margin int) (int64, error) {
	if margin < d.lim.radius() {
		margin = d.lim.radius()
	}
	buf := make([]byte, 0, chunk+2*margin)
	var (
		total    int64
		base     int64 // content offset of buf[0]
		emitFrom int64 // matches before this offset were reported already
		line     = 1   // line number at buf[0]
		col0     = 0   // bytes between the start of that line and buf[0]
		eof      bool
	)
	for {
		var err error
		buf, eof, err = fill(r, buf, &total)
		if err != nil {
			return total, err
		}
		emitTo := base + int64(len(buf))
		if !eof {
			emitTo -= int64(margin)
		}
		if emitTo > emitFrom {
			p := positioner{data: buf, line: line, lineStart: -col0}
			for _, m := range d.analyze(buf, 0) {
				abs := base + m.Offset
				if abs < emitFrom || abs >= emitTo {
					continue
				}
				p.locate(&m)
				m.Offset = abs
				fn(m)
			}
			emitFrom = emitTo
		}
		if eof {
			return total, nil
		}
		keep := int(emitFrom - int64(margin) - base)
		if keep <= 0 {
			continue
		}
		dropped := buf[:keep]
		if n := bytes.Count(dropped, []byte{'\n'}); n > 0 {
			line += n
			col0 = keep - (bytes.LastIndexByte(dropped, '\n') + 1)
		} else {
			col0 += keep
		}
		n := copy(buf, buf[keep:])
		buf = buf[:n]
		base += int64(keep)
	}
}

// fill reads into buf until it is full or the reader ends.
func fill(r io.Reader, buf []byte, total *int64) ([]byte, bool, error) {
	for idle := 0; len(buf) < cap(buf); {
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n == 0 && err == nil {
			if idle++; idle > 100 { // a reader that never progresses must not hang the scan
				return buf, false, fmt.Errorf("read content: %w", io.ErrNoProgress)
			}
			continue
		}
		idle = 0
		buf = buf[:len(buf)+n]
		*total += int64(n)
		if errors.Is(err, io.EOF) {
			return buf, true, nil
		}
		if err != nil {
			return buf, false, fmt.Errorf("read content: %w", err)
		}
	}
	return buf, false, nil
}
