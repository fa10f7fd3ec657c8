package git

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzParseHistory feeds arbitrary bytes to the `git log --raw -z` parser: it
// must never panic, whatever a damaged or hostile repository makes git print.
func FuzzParseHistory(f *testing.F) {
	f.Add([]byte("\x01abc 2024-01-02T03:04:05Z Kim <k@e>\x00\n:000000 100644 0000 1111 A\x00path\x00"))
	f.Add([]byte(":100644\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := &history{sightings: map[string][]sighting{}, referred: map[string]struct{}{}}
		_ = h.parse(bufio.NewReader(bytes.NewReader(data)), map[string]bool{"1111": true})
	})
}

// FuzzParseStaged does the same for the `diff-index -z` parser.
func FuzzParseStaged(f *testing.F) {
	f.Add([]byte(":100644 100644 aaaa bbbb R100\x00old\x00new\x00:000000 100644 0000 cccc A\x00x\x00"))
	f.Add([]byte(":1 2 3 4 \x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseStaged(data, Options{})
	})
}
