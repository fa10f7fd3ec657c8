package scan

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// corpusSample is one labelled text of the scan corpus.
type corpusSample struct {
	Text, Expect, Source string
	Rot18                string `json:"text_rot18"`
}

// readCorpus reads the labelled public samples. The small corpus stores each
// text ROT18-encoded (text_rot18), so that the repository holds no key-shaped
// string; it is decoded here.
func readCorpus(t *testing.T) []corpusSample {
	t.Helper()
	f, err := os.Open(awstest.CorpusPath(t, "scan/anchors-aws-samples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusSample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s corpusSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("sample %d: %v", len(out)+1, err)
		}
		if s.Rot18 != "" {
			s.Text = awstest.Rot18(s.Rot18)
		}
		if s.Expect != "leak" && s.Expect != "none" {
			t.Fatalf("sample %d: unknown expect %q", len(out)+1, s.Expect)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("corpus is empty")
	}
	return out
}

// TestCorpus checks the labelled public samples: every "leak" sample gives at
// least one match, every "none" sample none, and logs precision and recall
// per sample (go test ./internal/scan -run TestCorpus -v).
func TestCorpus(t *testing.T) {
	d := NewDetector()
	var tp, fp, fn, tn int
	for i, s := range readCorpus(t) {
		ms := d.Find([]byte(s.Text))
		switch {
		case s.Expect == "leak" && len(ms) > 0:
			tp++
		case s.Expect == "leak":
			fn++
			t.Errorf("sample %d (%s): no match, want a leak", i+1, s.Source)
		case len(ms) == 0:
			tn++
		default:
			fp++
			t.Errorf("sample %d (%s): %d matches (first %s), want none", i+1, s.Source, len(ms), ms[0].Rule)
		}
	}
	t.Logf("%d samples: tp %d fp %d fn %d tn %d; precision %.3f recall %.3f",
		tp+fp+fn+tn, tp, fp, fn, tn, ratio(tp, tp+fp), ratio(tp, tp+fn))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
