package target

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/nacl/box"
)

// githubAPIVersion is the REST API version the requests are written against.
const githubAPIVersion = "2022-11-28"

// gitHubTarget is github:OWNER/REPO[:ENVIRONMENT]: the repository's (or the
// environment's) Actions secrets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
type gitHubTarget struct {
	spec        string
	owner, repo string
	environment string
	env         Env
}

func newGitHub(spec, rest string, env Env) (Target, error) {
	repoPart, environment, hasEnv := strings.Cut(rest, ":")
	owner, repo, ok := strings.Cut(repoPart, "/")
	if !ok || !gitHubName(owner) || !gitHubName(repo) {
		return nil, errors.New("github needs OWNER/REPO (letters, digits, '-', '_', '.')")
	}
	if hasEnv && environment == "" {
		return nil, errors.New("github environment after ':' is empty")
	}
	return &gitHubTarget{spec: spec, owner: owner, repo: repo, environment: environment, env: env}, nil
}

func gitHubName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func (t *gitHubTarget) String() string { return t.spec }

// Deliver seals each value with the repository's public key (a libsodium
// sealed box) and PUTs it. GitHub secrets cannot be read back, so there is no
// restore; PUT replaces, so delivering twice is harmless.
func (t *gitHubTarget) Deliver(ctx context.Context, c Credentials) (func(context.Context) error, error) {
	if err := Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	if err := t.deliver(ctx, c); err != nil {
		return nil, Scrub(fmt.Errorf("deliver to %s: %w", t.spec, err), c)
	}
	return nil, nil
}

func (t *gitHubTarget) deliver(ctx context.Context, c Credentials) error {
	token := t.env.firstEnv("GITHUB_TOKEN", "GH_TOKEN")
	if token == "" {
		return errNoGitHubToken
	}
	hdr := http.Header{
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {githubAPIVersion},
		"Authorization":        {"Bearer " + token},
	}
	base := t.secretsURL()
	var key struct {
		KeyID string `json:"key_id"`
		Key   string `json:"key"`
	}
	if err := callJSON(ctx, t.env.HTTP, http.MethodGet, base+"/public-key", hdr, nil, &key); err != nil {
		return fmt.Errorf("get public key: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(key.Key)
	if err != nil || len(raw) != 32 || key.KeyID == "" {
		return errors.New("get public key: the answer is not a base64 curve25519 key with a key_id")
	}
	var pub [32]byte
	copy(pub[:], raw)
	for _, kv := range Pair(c) {
		sealed, err := box.SealAnonymous(nil, []byte(kv[1]), &pub, rand.Reader)
		if err != nil {
			return fmt.Errorf("seal %s: %w", kv[0], err)
		}
		body := map[string]string{"encrypted_value": base64.StdEncoding.EncodeToString(sealed), "key_id": key.KeyID}
		if err := callJSON(ctx, t.env.HTTP, http.MethodPut, base+"/"+kv[0], hdr, body, nil); err != nil {
			return fmt.Errorf("set secret %s: %w", kv[0], err)
		}
	}
	return nil
}

// secretsURL is the collection the secrets live in: the repository's Actions
// secrets or one environment's.
func (t *gitHubTarget) secretsURL() string {
	base := strings.TrimRight(t.env.firstEnv("KEYWARDEN_GITHUB_API_URL", "GITHUB_API_URL"), "/")
	if base == "" {
		base = "https://api.github.com"
	}
	repo := base + "/repos/" + url.PathEscape(t.owner) + "/" + url.PathEscape(t.repo)
	if t.environment != "" {
		return repo + "/environments/" + url.PathEscape(t.environment) + "/secrets"
	}
	return repo + "/actions/secrets"
}
