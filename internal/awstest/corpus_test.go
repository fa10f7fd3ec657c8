package awstest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRot18IsItsOwnInverse(t *testing.T) {
	in := "aws_key = AKIA0123456789XYZ; Näytä /+="
	enc := Rot18(in)
	if want := "njf_xrl = NXVN5678901234KLM; Aälgä /+="; enc != want {
		t.Errorf("Rot18(%q) = %q, want %q", in, enc, want)
	}
	if dec := Rot18(enc); dec != in {
		t.Errorf("Rot18(Rot18(%q)) = %q", in, dec)
	}
}

func TestCorpusFilePrefersTheSharedCorpus(t *testing.T) {
	shared := t.TempDir()
	rel := "cloudtrail/panther-labeled.jsonl"
	t.Setenv(CorpusEnv, shared)
	if _, c := CorpusFile(t, rel); c != SmallCorpus {
		t.Errorf("%s absent from the shared corpus: got %s corpus, want the small one", rel, c)
	}
	if err := os.MkdirAll(filepath.Join(shared, "cloudtrail"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, rel), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, c := CorpusFile(t, rel); c != SharedCorpus || p != filepath.Join(resolve(shared), rel) {
		t.Errorf("CorpusFile = %s, %s; want the shared corpus's file", p, c)
	}
	t.Setenv(CorpusEnv, "testdata/corpus")
	if p, c := CorpusFile(t, rel); c != SmallCorpus || !strings.HasSuffix(p, "testdata/corpus/"+rel) {
		t.Errorf("%s=testdata/corpus: CorpusFile = %s, %s; want the small corpus's file", CorpusEnv, p, c)
	}
}

// TestSmallCorpusIsTakenFromTheShared: every file of testdata/corpus but its
// READMEs and NOTICE is a copy of the shared corpus's file at the same
// path; the scan samples are, once their text_rot18 is decoded.
func TestSmallCorpusIsTakenFromTheShared(t *testing.T) {
	// A check of the copies, not a dependency: skipped (even in CI, where
	// .ci/run requires the shared corpus) where there is nothing to compare.
	shared, small := corpusRoots(t)
	if shared == small {
		t.Skipf("%s names the small corpus", CorpusEnv)
	}
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("no shared corpus to compare with: %v", err)
	}
	files := 0
	err := filepath.WalkDir(small, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "README.md" || d.Name() == "NOTICE" {
			return err
		}
		files++
		rel, _ := filepath.Rel(small, p)
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		want, err := os.ReadFile(filepath.Join(shared, rel))
		if err != nil {
			t.Errorf("%s: not in the shared corpus: %v", rel, err)
			return nil
		}
		if rel == filepath.Join("scan", "anchors-aws-samples.jsonl") {
			// A selection of the samples (those of AGPL-licensed test files
			// are left out), each as the shared corpus has it.
			all := bytes.Split(decodedSamples(t, want), []byte("\n"))
			for i, line := range bytes.Split(decodedSamples(t, got), []byte("\n")) {
				if !slices.ContainsFunc(all, func(l []byte) bool { return bytes.Equal(l, line) }) {
					t.Errorf("%s: sample %d is not one of the shared corpus's", rel, i+1)
				}
			}
			return nil
		}
		// Where they differ, not how: the samples hold fake keys.
		if i := firstDifference(got, want); i >= 0 {
			t.Errorf("%s differs from the shared corpus's from line %d on", rel, i+1)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("walk %s: %v, %d files", small, err, files)
	}
}

// firstDifference returns the index of the first line where a and b differ,
// or -1 when they are equal.
func firstDifference(a, b []byte) int {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range max(len(al), len(bl)) {
		if i >= len(al) || i >= len(bl) || !bytes.Equal(al[i], bl[i]) {
			return i
		}
	}
	return -1
}

// decodedSamples returns the scan samples as JSON lines of text, expect and
// source, their text decoded where it is stored as text_rot18.
func decodedSamples(t *testing.T, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var s struct {
			Text   string `json:"text"`
			Rot18  string `json:"text_rot18,omitempty"`
			Expect string `json:"expect"`
			Source string `json:"source"`
		}
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatalf("sample %d: %v", i+1, err)
		}
		if s.Rot18 != "" {
			s.Text, s.Rot18 = Rot18(s.Rot18), ""
		}
		enc, _ := json.Marshal(s)
		out.Write(append(enc, '\n'))
	}
	return out.Bytes()
}
