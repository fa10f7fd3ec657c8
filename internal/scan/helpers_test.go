package scan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// got is a Match flattened for comparison (secrets revealed: test data only).
type got struct {
	Rule         Rule
	KeyID        string
	Secret       string
	SessionToken string
	Encoding     string
}

func flatten(ms []Match) []got {
	var out []got
	for _, m := range ms {
		out = append(out, got{m.Rule, m.KeyID, m.Secret.Reveal(), m.SessionToken.Reveal(), m.Encoding})
	}
	return out
}

// full is a Match flattened with its position, for FindReader == Find checks.
type full struct {
	Match        got
	Line, Column int
	Offset       int64
}

func flattenFull(ms []Match) []full {
	var out []full
	for i, g := range flatten(ms) {
		out = append(out, full{g, ms[i].Line, ms[i].Column, ms[i].Offset})
	}
	return out
}

// secretWith returns a fake secret (built at run time) that contains every
// character of chars, for the escaping tests.
func secretWith(t testing.TB, chars string) string {
	t.Helper()
	for i := 0; i < 10000; i++ {
		s := awstest.FakeSecret(fmt.Sprint("esc", i))
		ok := true
		for _, c := range chars {
			if !strings.ContainsRune(s, c) {
				ok = false
			}
		}
		if ok {
			return s
		}
	}
	t.Fatalf("no fake secret with %q", chars)
	return ""
}

// smallDetector has tiny limits so that streaming windows are small enough
// for tests and fuzzing to move their edges over short inputs.
func smallDetector() *Detector {
	return &Detector{lim: limits{window: 200, maxRun: 600, lineCap: 100, fakeRadius: 60}}
}
