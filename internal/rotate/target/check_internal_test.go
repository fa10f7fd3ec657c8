package target

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/atomicfile"
)

// TestPrecheck: the kinds this package delivers are checked without a
// change and without AWS — a token set, a dotenv file writable (the probe
// replaced: root writes anywhere) — and the kinds that call AWS are left
// to the rotation, which has the identity they sign as.
func TestPrecheck(t *testing.T) {
	vars := map[string]string{}
	env := Env{Getenv: func(k string) string { return vars[k] }}
	writable = func(path string) error {
		if strings.Contains(path, "locked") {
			return errors.New("not writable by this user: permission denied")
		}
		return nil
	}
	t.Cleanup(func() { writable = atomicfile.Writable })
	ok := filepath.Join(t.TempDir(), "app.env")
	tests := []struct {
		spec  string
		vars  map[string]string
		fails string
	}{
		{"github:acme/api", nil, "target github:acme/api: no GitHub token"},
		{"github:acme/api", map[string]string{"GH_TOKEN": "t"}, ""},
		{"gitlab:acme/api", nil, "target gitlab:acme/api: no GitLab token"},
		{"gitlab:acme/api", map[string]string{"GITLAB_TOKEN": "t"}, ""},
		{"envfile:" + ok, nil, ""},
		{"envfile:/srv/locked/app.env", nil, "target envfile:/srv/locked/app.env: not writable by this user"},
		{"exec:true", nil, ""},
		{"ssm:/ci/key", nil, ""}, // not this package's kind: checked once the rotation signs
	}
	for _, tt := range tests {
		clear(vars)
		for k, v := range tt.vars {
			vars[k] = v
		}
		err := Precheck(context.Background(), tt.spec, env)
		if (err == nil) != (tt.fails == "") || err != nil && !strings.HasPrefix(err.Error(), tt.fails) {
			t.Errorf("%s %v: %v, want an error starting %q", tt.spec, tt.vars, err, tt.fails)
		}
	}
}
