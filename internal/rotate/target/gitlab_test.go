package target_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
)

const fakeGitLabToken = "glpat-test-token"

type glVar struct {
	Key              string  `json:"key"`
	Value            *string `json:"value"`
	Masked           bool    `json:"masked"`
	Protected        bool    `json:"protected"`
	Hidden           bool    `json:"hidden"`
	EnvironmentScope string  `json:"environment_scope"`
	VariableType     string  `json:"variable_type"`
}

// fakeGitLab speaks GitLab's project-level CI/CD variables API for one
// project, addressed by its URL-encoded path as GitLab requires.
type fakeGitLab struct {
	project string // escaped, e.g. group%2Fapp
	mu      sync.Mutex
	vars    map[[2]string]glVar // key, scope
	reject  bool                // answer writes with a 400 that echoes the value
}

// GitLab's rule for masked values.
var maskable = regexp.MustCompile(`^[A-Za-z0-9+/=@:.~_-]{8,}$`)

func newFakeGitLab(t *testing.T) (*fakeGitLab, *httptest.Server) {
	f := &fakeGitLab{project: "group%2Fapp", vars: map[[2]string]glVar{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("PRIVATE-TOKEN") != fakeGitLabToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v4/projects/"+f.project+"/variables")
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.TrimPrefix(rest, "/")
	scope := r.URL.Query().Get("filter[environment_scope]")
	var body glVar
	body.Masked = true // remember whether the request set it
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		json.NewDecoder(r.Body).Decode(&body)
	}
	if f.reject && body.Value != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"value": {*body.Value + " is invalid"}}})
		return
	}
	if body.Value != nil && body.Masked && !maskable.MatchString(*body.Value) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"value": {"is invalid"}}})
		return
	}
	cur, exists := f.vars[[2]string{key, scope}]
	switch {
	case r.Method == http.MethodPost && key == "":
		id := [2]string{body.Key, body.EnvironmentScope}
		if _, dup := f.vars[id]; dup {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"key": {"(" + body.Key + ") has already been taken"}}})
			return
		}
		f.vars[id] = body
		writeJSON(w, http.StatusCreated, body)
	case !exists:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Variable Not Found"})
	case r.Method == http.MethodGet:
		if cur.Hidden {
			cur.Value = nil
		}
		writeJSON(w, http.StatusOK, cur)
	case r.Method == http.MethodPut:
		cur.Value, cur.Masked = body.Value, body.Masked
		f.vars[[2]string{key, scope}] = cur
		writeJSON(w, http.StatusOK, cur)
	case r.Method == http.MethodDelete:
		delete(f.vars, [2]string{key, scope})
		w.WriteHeader(http.StatusNoContent)
	}
}

func (f *fakeGitLab) snapshot() map[[2]string]glVar {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[[2]string]glVar{}
	for k, v := range f.vars {
		m[k] = v
	}
	return m
}

func (f *fakeGitLab) set(v glVar) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vars[[2]string{v.Key, v.EnvironmentScope}] = v
}

func ptr(s string) *string { return &s }

func gitLabEnv(srv *httptest.Server) target.Env {
	return target.Env{HTTP: srv.Client(), Getenv: getenv(map[string]string{
		"GITLAB_TOKEN": fakeGitLabToken, "KEYWARDEN_GITLAB_API_URL": srv.URL + "/api/v4", "CI_API_V4_URL": "http://127.0.0.1:1"})}
}

func TestGitLabCreatesMaskedVariablesAndRestoreDeletesThem(t *testing.T) {
	f, srv := newFakeGitLab(t)
	other := glVar{Key: "AWS_ACCESS_KEY_ID", Value: ptr("untouched-value"), EnvironmentScope: "*", VariableType: "env_var"}
	f.set(other)
	c := targettest.Creds("new")
	tg := mustParse(t, "gitlab:group/app:production", gitLabEnv(srv))
	restore := targettest.Deliver(t, tg, c)
	targettest.Deliver(t, tg, c) // idempotent
	want := map[[2]string]glVar{
		{"AWS_ACCESS_KEY_ID", "*"}: other,
		{"AWS_ACCESS_KEY_ID", "production"}: {Key: "AWS_ACCESS_KEY_ID", Value: ptr(c.AccessKeyID), Masked: true,
			EnvironmentScope: "production", VariableType: "env_var"},
		{"AWS_SECRET_ACCESS_KEY", "production"}: {Key: "AWS_SECRET_ACCESS_KEY", Value: ptr(c.SecretAccessKey.Reveal()), Masked: true,
			EnvironmentScope: "production", VariableType: "env_var"},
	}
	if diff := cmp.Diff(want, f.snapshot()); diff != "" {
		t.Errorf("variables after Deliver (-want +got):\n%s", diff)
	}
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[[2]string]glVar{{"AWS_ACCESS_KEY_ID", "*"}: other}, f.snapshot()); diff != "" {
		t.Errorf("variables after restore (-want +got):\n%s", diff)
	}
}

func TestGitLabUpdatesExistingVariablesAndRestoresThem(t *testing.T) {
	f, srv := newFakeGitLab(t)
	old := targettest.Creds("old")
	before := map[[2]string]glVar{
		{"AWS_ACCESS_KEY_ID", "*"}: {Key: "AWS_ACCESS_KEY_ID", Value: ptr(old.AccessKeyID), Protected: true,
			EnvironmentScope: "*", VariableType: "env_var"},
		{"AWS_SECRET_ACCESS_KEY", "*"}: {Key: "AWS_SECRET_ACCESS_KEY", Value: ptr(old.SecretAccessKey.Reveal()), Masked: true, Protected: true,
			EnvironmentScope: "*", VariableType: "env_var"},
	}
	for _, v := range before {
		f.set(v)
	}
	c := targettest.Creds("new")
	restore := targettest.Deliver(t, mustParse(t, "gitlab:group/app", gitLabEnv(srv)), c)
	got := f.snapshot()
	for _, kv := range [][2]string{{"AWS_ACCESS_KEY_ID", c.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey.Reveal()}} {
		v := got[[2]string{kv[0], "*"}]
		if v.Value == nil || *v.Value != kv[1] || !v.Masked || !v.Protected {
			t.Errorf("%s after Deliver = %+v, want the new value, masked, still protected", kv[0], v)
		}
	}
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, f.snapshot()); diff != "" {
		t.Errorf("variables after restore (-want +got):\n%s", diff)
	}
}

func TestGitLabHiddenVariableCannotBeRestored(t *testing.T) {
	f, srv := newFakeGitLab(t)
	f.set(glVar{Key: "AWS_SECRET_ACCESS_KEY", Value: ptr(targettest.Creds("old").SecretAccessKey.Reveal()), Masked: true, Hidden: true, EnvironmentScope: "*"})
	c := targettest.Creds("new")
	if restore := targettest.Deliver(t, mustParse(t, "gitlab:group/app", gitLabEnv(srv)), c); restore != nil {
		t.Error("restore returned for a hidden variable whose value cannot be read back")
	}
	if v := f.snapshot()[[2]string{"AWS_SECRET_ACCESS_KEY", "*"}]; v.Value == nil || *v.Value != c.SecretAccessKey.Reveal() {
		t.Errorf("hidden variable not updated: %+v", v)
	}
}

func TestGitLabErrorsNeverCarryTheSecret(t *testing.T) {
	f, srv := newFakeGitLab(t)
	f.reject = true
	c := targettest.Creds("new")
	_, err := mustParse(t, "gitlab:group/app", gitLabEnv(srv)).Deliver(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") {
		t.Fatalf("err = %v, want the 400", err)
	}
	targettest.AssertNoSecret(t, err, c)

	for name, tc := range map[string]struct{ spec, want string }{
		"unknown project": {"gitlab:group/other", "404 Project Not Found"},
		"no token":        {"gitlab:group/app", "GITLAB_TOKEN"},
	} {
		env := gitLabEnv(srv)
		if name == "no token" {
			env.Getenv = getenv(map[string]string{"KEYWARDEN_GITLAB_API_URL": srv.URL + "/api/v4"})
		}
		_, err := mustParse(t, tc.spec, env).Deliver(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}

// TestGitLabTokenNeverFollowsARedirectToAnotherHost: Go forwards custom
// headers such as PRIVATE-TOKEN on redirects, so the target refuses them.
func TestGitLabTokenNeverFollowsARedirectToAnotherHost(t *testing.T) {
	var leaked []string
	var mu sync.Mutex
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("PRIVATE-TOKEN"))
		mu.Unlock()
	}))
	defer thief.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	env := target.Env{Getenv: getenv(map[string]string{"GITLAB_TOKEN": fakeGitLabToken, "CI_API_V4_URL": redirector.URL})}
	_, err := mustParse(t, "gitlab:1", env).Deliver(context.Background(), targettest.Creds("new"))
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Fatalf("the token reached another host: %d requests", len(leaked))
	}
}
