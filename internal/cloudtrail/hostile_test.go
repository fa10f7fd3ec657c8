package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// TestHostileJSONEndsTheFileInOneWarning: input no CloudTrail writer makes
// (nested without end, in UTF-16, cut short inside a gzip stream) ends its
// file with one warning naming it and why; the reader never fails the whole
// read and never panics.
func TestHostileJSONEndsTheFileInOneWarning(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	deepInRecord := `{"Records":[{"eventName":"X","requestParameters":` + strings.Repeat(`{"a":`, 20000) + "1" +
		strings.Repeat("}", 20000) + "}]}"
	logFile := `{"Records":[` + record("a", day) + `]}`
	tests := map[string]struct {
		content string
		warn    string
	}{
		"arrays nested past the bound":  {deep, "FILE: JSON nested deeper than 10000 levels"},
		"a record nested past it":       {deepInRecord, "FILE: JSON nested deeper than 10000 levels"},
		"utf-16 with a byte order mark": {utf16Text(logFile, true), "FILE: not JSON in UTF-8: UTF-16 or UTF-32 text"},
		"utf-16 without one":            {utf16Text(logFile, false), "FILE: not JSON in UTF-8: UTF-16 or UTF-32 text"},
		"NUL bytes":                     {"\x00\x00\x00\x00", "FILE: not JSON in UTF-8"},
		"gzip cut in its header":        {gz(t, logFile)[:5], "FILE: gzip: unexpected EOF"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := readString(t, tc.content, cloudtrail.Options{})
			if len(got.ids) != 0 || len(got.warns) != 1 || !strings.HasPrefix(got.warns[0], tc.warn) {
				t.Errorf("read %v, warned %q; want nothing read and one warning starting %q", got.ids, got.warns, tc.warn)
			}
		})
	}
}

// TestInvalidUTF8IsReplaced: a record whose strings are not UTF-8 is read,
// its bad bytes replaced by U+FFFD as encoding/json does, so nothing invalid
// reaches an alert's JSON or a terminal.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	rec := strings.Replace(record("a", day), `"eventName":"CreateUser"`, `"eventName":"CreateUser","userAgent":"cli`+"\xff\xfe"+`/1"`, 1)
	var agents []string
	err := cloudtrail.ReadReader(context.Background(), strings.NewReader(`{"Records":[`+rec+`]}`), "x", cloudtrail.Options{},
		func(ev cloudtrail.Event) error { agents = append(agents, ev.UserAgent); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0] != "cli\ufffd\ufffd/1" || !utf8.ValidString(agents[0]) {
		t.Errorf("user agents %q; want one, its bad bytes replaced", agents)
	}
}

// TestEndlessRecordIsBounded: a record that never ends, plain or as a gzip
// bomb, costs at most the bound on one record (8 MiB): the read stops there
// with one warning instead of holding the stream in memory.
func TestEndlessRecordIsBounded(t *testing.T) {
	const bound = 8 << 20
	head := `{"Records":[{"eventName":"CreateUser","userAgent":"`
	for _, compressed := range []bool{false, true} {
		src := &awstest.Counting{R: io.MultiReader(strings.NewReader(head), awstest.Endless('A'))}
		var r io.Reader = src
		if compressed {
			r = gzipStream(t, io.MultiReader(strings.NewReader(head), io.LimitReader(awstest.Endless('A'), 1<<30)))
		}
		var warns []string
		opts := cloudtrail.Options{Warn: func(err error) { warns = append(warns, err.Error()) }}
		if err := cloudtrail.ReadReader(context.Background(), r, "stdin", opts, func(cloudtrail.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if len(warns) != 1 || !strings.Contains(warns[0], "stdin") || !strings.Contains(warns[0], "a record larger than 8 MiB") {
			t.Errorf("compressed %v: warnings %q; want one naming stdin and the bound", compressed, warns)
		}
		if !compressed && src.N > bound+1<<20 {
			t.Errorf("read %d bytes of an endless record; want at most about %d", src.N, bound)
		}
	}
}

func utf16Text(s string, bom bool) string {
	var b bytes.Buffer
	if bom {
		b.WriteString("\xff\xfe")
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

// gzipStream compresses r as it is read.
func gzipStream(t *testing.T, r io.Reader) io.Reader {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, r)
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	t.Cleanup(func() { pr.Close() })
	return pr
}
