package rulelang

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func FuzzSigmaCondition(f *testing.F) {
	for _, s := range []string{"sel", "sel and not 1 of filter_*", "(a or b) and not (c)", "all of them", "1 of sel* or not", "((((", "a | count() by x"} {
		f.Add(s)
	}
	sel := map[string]cond{"a": constCond(true), "b": constCond(false), "c": constCond(true), "sel": constCond(true), "filter_x": constCond(false)}
	f.Fuzz(func(t *testing.T, cond string) {
		c, err := sigmaParseCondition(cond, sel)
		if err == nil {
			c.eval(nil) // must not panic
		}
	})
}

func FuzzUserRulesYAML(f *testing.F) {
	f.Add([]byte("rules:\n  - id: A\n    match: {eventName: {not: {prefix: X}}}\n    threshold: {count: 2, window: 1h}\n"))
	f.Add([]byte(sigmaStopLogging))
	f.Add([]byte("rules: [{id: B, match: {any_of: [{a.b: {regex: '^x'}}, {c: {cidr: 10.0.0.0/8}}]}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse("f.yml", data)
		if IsSigma(data) {
			if r, serr := ParseSigma("f.yml", data); serr == nil {
				rules = append(rules, r)
			}
		}
		if err != nil && len(rules) == 0 {
			return
		}
		e := event(t, sesSend("AKIAIOSFODNN7EXAMPLE", "10.0.0.1", "2024-05-01T10:00:00Z"))
		if _, err := NewDetector(rules, nil).Observe(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSigmaHQCatalogue measures how much of SigmaHQ's AWS CloudTrail
// catalogue loads. Their files are not committed: point
// KEYWARDEN_SIGMA_DIR at rules/cloud/aws/cloudtrail of a checkout.
func TestSigmaHQCatalogue(t *testing.T) {
	dir := os.Getenv("KEYWARDEN_SIGMA_DIR")
	if dir == "" {
		t.Skip("KEYWARDEN_SIGMA_DIR not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	loaded, features := 0, map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSigma(filepath.Base(f), data); err != nil {
			feature := err.Error()
			if i := strings.Index(feature, "skipped: "); i >= 0 {
				feature = feature[i+len("skipped: "):]
			}
			features[feature]++
			t.Logf("%v", err)
			continue
		}
		loaded++
	}
	var fs []string
	for k, n := range features {
		fs = append(fs, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(fs)
	t.Logf("loaded %d of %d rules; skipped: %v", loaded, len(files), fs)
}
