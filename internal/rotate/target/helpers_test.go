package target_test

import (
	"testing"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

// getenv is an Env.Getenv over a fixed map: tests never read the real environment.
func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func mustParse(t *testing.T, spec string, env target.Env) target.Target {
	t.Helper()
	tg, err := target.Parse(spec, env)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return tg
}
