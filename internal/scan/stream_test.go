package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
)

// streamAll runs d.stream over data with the given window and collects the matches.
func streamAll(t testing.TB, d *Detector, r io.Reader, chunk int) ([]Match, int64) {
	t.Helper()
	var ms []Match
	n, err := d.stream(r, func(m Match) { ms = append(ms, m) }, chunk, 0)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	return ms, n
}

// keyText builds content with credentials of every kind spread over it.
func keyText(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		s := fmt.Sprint(i)
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "[p%d]\naws_access_key_id = %s\naws_secret_access_key = %s\n", i, awstest.FakeKeyID(s, 400000000000+uint64(i)), awstest.FakeSecret(s))
		case 1:
			fmt.Fprintf(&b, "AWS_ACCESS_KEY_ID=%s\nAWS_SESSION_TOKEN=%s\nAWS_SECRET_ACCESS_KEY=%s\n", awstest.FakeSessionKeyID(s, 500000000000+uint64(i)), awstest.FakeSessionToken(s), awstest.FakeSecret(s))
		case 2:
			fmt.Fprintf(&b, "owner: %s\n", awstest.FakeKeyID(s, 600000000000+uint64(i)))
		case 3:
			fmt.Fprintf(&b, "aws_secret_access_key: %s\n", awstest.FakeSecret(s))
		}
		fmt.Fprintf(&b, "%s\n", strings.Repeat("filler words to move keys around the window edges ", i%7))
	}
	return b.Bytes()
}

// TestFindReaderMatchesFind streams content over many window sizes and
// readers and gets exactly what Find gets, positions included.
func TestFindReaderMatchesFind(t *testing.T) {
	d := smallDetector()
	data := keyText(40 << 10)
	want := flattenFull(d.Find(data))
	if len(want) < 50 {
		t.Fatalf("only %d matches in the test content", len(want))
	}
	for _, chunk := range []int{61, 1000, 4096, 1 << 20} {
		for name, r := range map[string]func() io.Reader{
			"plain":    func() io.Reader { return bytes.NewReader(data) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
			"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		} {
			ms, n := streamAll(t, d, r(), chunk)
			if n != int64(len(data)) {
				t.Errorf("chunk %d %s: read %d bytes, want %d", chunk, name, n, len(data))
			}
			if diff := cmp.Diff(want, flattenFull(ms)); diff != "" {
				t.Errorf("chunk %d %s: stream differs from Find (-find +stream):\n%s", chunk, name, diff)
			}
		}
	}
}

// TestFindReaderChunkEdges puts a pair across the default window edge and
// checks it is reported once, paired, at the right line.
func TestFindReaderChunkEdges(t *testing.T) {
	d := NewDetector()
	id, sec := awstest.FakeKeyID("edge", 123456789012), awstest.FakeSecret("edge")
	cred := "aws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n"
	line := strings.Repeat("x", 99) + "\n"
	edge := defaultChunk + defaultMargin // where the first window stops reporting
	for _, shift := range []int{-60, -30, -1, 0, 1, 25} {
		t.Run(fmt.Sprint(shift), func(t *testing.T) {
			filler := strings.Repeat(line, (edge+shift)/len(line))
			filler += strings.Repeat("y", edge+shift-len(filler)) + "\n"
			data := []byte(filler + cred + filler + cred)
			var ms []Match
			if _, err := d.FindReader(bytes.NewReader(data), func(m Match) { ms = append(ms, m) }); err != nil {
				t.Fatal(err)
			}
			want := flattenFull(d.Find(data))
			if len(want) != 2 || want[0].Match.Rule != RuleKeyPair || want[0].Line != strings.Count(filler, "\n")+1 {
				t.Fatalf("Find = %+v, want two pairs", want)
			}
			if diff := cmp.Diff(want, flattenFull(ms)); diff != "" {
				t.Errorf("FindReader differs from Find (-find +reader):\n%s", diff)
			}
		})
	}
}

// TestFindReaderErrors passes read errors on, wrapped, with the bytes read.
func TestFindReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom))
	n, err := NewDetector().FindReader(r, func(Match) {})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("FindReader = %d, %v; want 3, boom", n, err)
	}
	n, err = NewDetector().FindReader(iotest.DataErrReader(strings.NewReader("key: "+awstest.FakeKeyID("e", 123456789012))), func(Match) {})
	if err != nil || n == 0 {
		t.Errorf("DataErrReader: %d, %v", n, err)
	}
}

// stuckReader never makes progress.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// TestFindReaderStuckReader does not hang on a reader that returns nothing forever.
func TestFindReaderStuckReader(t *testing.T) {
	if _, err := NewDetector().FindReader(stuckReader{}, func(Match) {}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("err = %v, want io.ErrNoProgress", err)
	}
}
