package scan

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestCorpus checks the labelled public samples: every "leak" sample gives at
// least one match, every "none" sample none. The small corpus stores each
// text ROT18-encoded (text_rot18), so that the repository holds no
// key-shaped string; it is decoded here.
func TestCorpus(t *testing.T) {
	f, err := os.Open(awstest.CorpusPath(t, "scan/anchors-aws-samples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := NewDetector()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var s struct {
			Text, Expect, Source string
			Rot18                string `json:"text_rot18"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("sample %d: %v", n, err)
		}
		if s.Rot18 != "" {
			s.Text = awstest.Rot18(s.Rot18)
		}
		ms := d.Find([]byte(s.Text))
		switch s.Expect {
		case "leak":
			if len(ms) == 0 {
				t.Errorf("sample %d (%s): no match, want a leak", n, s.Source)
			}
		case "none":
			if len(ms) != 0 {
				t.Errorf("sample %d (%s): %d matches (first %s), want none", n, s.Source, len(ms), ms[0].Rule)
			}
		default:
			t.Fatalf("sample %d: unknown expect %q", n, s.Expect)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("corpus is empty")
	}
	t.Logf("%d samples", n)
}
