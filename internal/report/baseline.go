package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxBaseline bounds how much of a baseline file is read, so a hostile or
// mistaken file cannot exhaust memory.
const maxBaseline = 512 << 20

// ReadBaseline returns the fingerprints in an earlier report, written as
// json (an array), jsonl or sarif, for `scan --baseline`. Its errors say what
// is wrong with the report; the caller names the file and what it read it for.
func ReadBaseline(r io.Reader) (map[string]bool, error) {
	br := bufio.NewReader(io.LimitReader(r, maxBaseline))
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
		}
		return b, br.UnreadByte()
	}
}
