package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// gitLabTarget is gitlab:PROJECT[:ENV_SCOPE]: the project's CI/CD variables
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in one environment scope.
type gitLabTarget struct {
	spec    string
	project string // numeric id or namespace/path
	scope   string // environment_scope, "*" for all
	env     Env
}

// gitLabVariable is the API's variable object, as far as the target needs it.
type gitLabVariable struct {
	Key       string  `json:"key"`
	Value     *string `json:"value"` // null for hidden variables
	Masked    bool    `json:"masked"`
	Protected bool    `json:"protected"`
	Hidden    bool    `json:"hidden"`
}

func newGitLab(spec, rest string, env Env) (Target, error) {
	project, scope, hasScope := strings.Cut(rest, ":")
	if project == "" || strings.ContainsAny(project, " \t\r\n?#") || strings.Contains(project, "//") ||
		strings.HasPrefix(project, "/") || strings.HasSuffix(project, "/") {
		return nil, errors.New("gitlab needs a project id or path (group/project)")
	}
	if hasScope && scope == "" {
		return nil, errors.New("gitlab environment scope after ':' is empty")
	}
	if scope == "" {
		scope = "*"
	}
	return &gitLabTarget{spec: spec, project: project, scope: scope, env: env}, nil
}

func (t *gitLabTarget) String() string { return t.spec }

// Deliver updates each variable in place (PUT) or creates it (POST), masked
// so job logs hide it. A new variable is not protected (GitLab's default):
// protecting it would hide it from pipelines on unprotected branches, which
// the user decides; an existing variable keeps its protected flag.
func (t *gitLabTarget) Deliver(ctx context.Context, c Credentials) (func(context.Context) error, error) {
	if err := Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	restore, err := t.deliver(ctx, c)
	if err != nil {
		return nil, Scrub(fmt.Errorf("deliver to %s: %w", t.spec, err), c)
	}
	return restore, nil
}

func (t *gitLabTarget) deliver(ctx context.Context, c Credentials) (func(context.Context) error, error) {
	token := t.env.Getenv("GITLAB_TOKEN")
	if token == "" {
		return nil, errNoGitLabToken
	}
	hdr := http.Header{"Private-Token": {token}, "Accept": {"application/json"}}
	// Read both before writing either: a failed read changes nothing.
	olds := make([]*gitLabVariable, 2)
	for i, kv := range Pair(c) {
		v, err := t.get(ctx, hdr, kv[0])
		if err != nil {
			return nil, err
		}
		olds[i] = v
	}
	for i, kv := range Pair(c) {
		old := olds[i]
		if old != nil && old.Value != nil && *old.Value == kv[1] && old.Masked {
			continue // already delivered by an interrupted run
		}
		if err := t.set(ctx, hdr, kv[0], kv[1], true, old != nil); err != nil {
			return nil, err
		}
	}
	for _, v := range olds {
		if v != nil && v.Value == nil {
			return nil, nil // a hidden variable cannot be read back, so it cannot be restored
		}
	}
	return func(ctx context.Context) error {
		var errs []error
		for i, kv := range Pair(c) {
			var err error
			if olds[i] == nil {
				err = t.delete(ctx, hdr, kv[0])
			} else {
				err = t.set(ctx, hdr, kv[0], *olds[i].Value, olds[i].Masked, true)
			}
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return Scrub(fmt.Errorf("restore %s: %w", t.spec, err), c)
		}
		return nil
	}, nil
}

// get returns the variable in the target's scope, or nil when there is none.
func (t *gitLabTarget) get(ctx context.Context, hdr http.Header, key string) (*gitLabVariable, error) {
	var v gitLabVariable
	err := callJSON(ctx, t.env.HTTP, http.MethodGet, t.variableURL(key), hdr, nil, &v)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil // no such variable; a missing project fails on create with its own message
	}
	if err != nil {
		return nil, fmt.Errorf("get variable %s: %w", key, err)
	}
	return &v, nil
}

// set writes value: PUT over an existing variable, or POST a new one.
func (t *gitLabTarget) set(ctx context.Context, hdr http.Header, key, value string, masked, exists bool) error {
	if exists {
		body := map[string]any{"value": value, "masked": masked}
		if err := callJSON(ctx, t.env.HTTP, http.MethodPut, t.variableURL(key), hdr, body, nil); err != nil {
			return fmt.Errorf("update variable %s: %w", key, err)
		}
		return nil
	}
	body := map[string]any{
		"key": key, "value": value, "masked": masked, "protected": false,
		"environment_scope": t.scope, "variable_type": "env_var",
	}
	if err := callJSON(ctx, t.env.HTTP, http.MethodPost, t.projectURL()+"/variables", hdr, body, nil); err != nil {
		return fmt.Errorf("create variable %s: %w", key, err)
	}
	return nil
}

func (t *gitLabTarget) delete(ctx context.Context, hdr http.Header, key string) error {
	err := callJSON(ctx, t.env.HTTP, http.MethodDelete, t.variableURL(key), hdr, nil, nil)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("delete variable %s: %w", key, err)
	}
	return nil
}

func (t *gitLabTarget) projectURL() string {
	base := strings.TrimRight(t.env.firstEnv("KEYWARDEN_GITLAB_API_URL", "CI_API_V4_URL"), "/")
	if base == "" {
		base = "https://gitlab.com/api/v4"
	}
	// A path is one URL-encoded segment (group%2Fproject), as GitLab requires.
	return base + "/projects/" + url.PathEscape(t.project)
}

// variableURL names one variable; the filter picks the target's scope when
// several variables share the key.
func (t *gitLabTarget) variableURL(key string) string {
	return t.projectURL() + "/variables/" + url.PathEscape(key) +
		"?" + url.Values{"filter[environment_scope]": {t.scope}}.Encode()
}
