package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxReport bounds how much of an earlier report (a baseline, audit's
// --diff) is read, so a hostile or mistaken file cannot exhaust memory. A
// variable only so that a test can lower it.
var maxReport int64 = 512 << 20

// errTooLarge is a report past maxReport, said as such rather than as the
// JSON error of where it was cut.
var errTooLarge = errors.New("larger than the 512 MiB an earlier report may hold")

// boundedReader reads at most maxReport bytes, then fails with errTooLarge.
type boundedReader struct {
	r io.Reader
	n int64
}

func bounded(r io.Reader) *bufio.Reader {
	return bufio.NewReader(&boundedReader{r: io.LimitReader(r, maxReport+1)})
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if b.n += int64(n); b.n > maxReport {
		return n, errTooLarge
	}
	return n, err
}

// tooLarge makes a report cut by the bound fail with errTooLarge alone.
func tooLarge(err error) error {
	if errors.Is(err, errTooLarge) {
		return errTooLarge
	}
	return err
}

// ReadBaseline returns the fingerprints in an earlier report, written as
// json (an array), jsonl or sarif, for `scan --baseline`. Its errors say what
// is wrong with the report; the caller names the file and what it read it for.
func ReadBaseline(r io.Reader) (map[string]bool, error) {
	fps, err := readBaseline(bounded(r))
	return fps, tooLarge(err)
}

func readBaseline(br *bufio.Reader) (map[string]bool, error) {
	first, err := firstByte(br)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(br)
	switch first {
	case '[':
		var entries []baselineEntry
		if err := dec.Decode(&entries); err != nil {
			return nil, fmt.Errorf("not a keywarden json report: %w", err)
		}
		return fingerprints(entries)
	case '{':
		return readObjects(dec)
	}
	return nil, fmt.Errorf("not a keywarden json, jsonl or sarif report (starts with %q)", first)
}

type baselineEntry struct {
	Fingerprint *string    `json:"fingerprint"`
	Version     string     `json:"version"`
	Runs        []struct { // sarif
		Results []struct {
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

// readObjects reads jsonl findings, or a single sarif log.
func readObjects(dec *json.Decoder) (map[string]bool, error) {
	var entries []baselineEntry
	for n := 1; ; n++ {
		var e baselineEntry
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("object %d: not a keywarden jsonl or sarif report: %w", n, err)
		}
		if n == 1 && e.Runs != nil && e.Fingerprint == nil {
			return sarifFingerprints(e, dec)
		}
		entries = append(entries, e)
	}
	return fingerprints(entries)
}

func sarifFingerprints(log baselineEntry, dec *json.Decoder) (map[string]bool, error) {
	if dec.More() {
		return nil, errors.New("unexpected data after the sarif log")
	}
	out := map[string]bool{}
	for _, run := range log.Runs {
		for _, res := range run.Results {
			if fp := res.PartialFingerprints[FingerprintKey]; fp != "" {
				out[fp] = true
			}
		}
	}
	return out, nil
}

func fingerprints(entries []baselineEntry) (map[string]bool, error) {
	out := make(map[string]bool, len(entries))
	for i, e := range entries {
		if e.Fingerprint == nil || *e.Fingerprint == "" {
			return nil, fmt.Errorf("finding %d has no fingerprint: not a keywarden report", i+1)
		}
		out[*e.Fingerprint] = true
	}
	return out, nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, errors.New("the file is empty")
		}
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xef: // UTF-8 byte order mark
			br.ReadByte()
			br.ReadByte()
			continue
		case 0xfe, 0xff, 0: // a UTF-16 or UTF-32 byte order mark or character
			return 0, errors.New("not a keywarden report: UTF-16 or UTF-32 text, or binary (keywarden writes UTF-8)")
		}
		return b, br.UnreadByte()
	}
}
