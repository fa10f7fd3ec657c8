package target_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/nacl/box"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
)

const fakeGitHubToken = "test-token-for-fake-github"

// fakeGitHub speaks GitHub's Actions secrets REST API for one repository and
// its environments, with a real curve25519 key pair so the test can open
// what the target sealed.
type fakeGitHub struct {
	t         *testing.T
	pub, priv *[32]byte
	mu        sync.Mutex
	sealed    map[string]string // collection path + "/" + name -> encrypted_value
	puts      int
}

func newFakeGitHub(t *testing.T) (*fakeGitHub, *httptest.Server) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGitHub{t: t, pub: pub, priv: priv, sealed: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

const fakeKeyID = "568250167242549743"

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+fakeGitHubToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	if r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "missing Accept or X-GitHub-Api-Version"})
		return
	}
	collection, name, ok := cutSecretsPath(r.URL.Path)
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	case r.Method == http.MethodGet && name == "public-key":
		writeJSON(w, http.StatusOK, map[string]string{"key_id": fakeKeyID, "key": base64.StdEncoding.EncodeToString(f.pub[:])})
	case r.Method == http.MethodPut:
		var body struct {
			EncryptedValue string `json:"encrypted_value"`
			KeyID          string `json:"key_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.KeyID != fakeKeyID || body.EncryptedValue == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request.\n\n\"key_id\" wasn't supplied."})
			return
		}
		f.mu.Lock()
		_, existed := f.sealed[collection+"/"+name]
		f.sealed[collection+"/"+name] = body.EncryptedValue
		f.puts++
		f.mu.Unlock()
		if existed {
			w.WriteHeader(http.StatusNoContent)
		} else {
			w.WriteHeader(http.StatusCreated)
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// cutSecretsPath splits /repos/o/r/actions/secrets/NAME or
// /repos/o/r/environments/E/secrets/NAME into the collection and NAME.
func cutSecretsPath(p string) (collection, name string, ok bool) {
	i := strings.LastIndex(p, "/")
	collection, name = p[:i], p[i+1:]
	return collection, name, strings.HasPrefix(p, "/repos/") && strings.HasSuffix(collection, "/secrets")
}

// open decrypts the stored secret, proving the target sealed it for this key.
func (f *fakeGitHub) open(collection, name string) string {
	f.mu.Lock()
	enc, ok := f.sealed[collection+"/"+name]
	f.mu.Unlock()
	if !ok {
		f.t.Fatalf("no secret %s in %s", name, collection)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		f.t.Fatalf("encrypted_value is not base64: %v", err)
	}
	plain, ok := box.OpenAnonymous(nil, raw, f.pub, f.priv)
	if !ok {
		f.t.Fatalf("secret %s does not open with the repository key", name)
	}
	return string(plain)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestGitHubSealsBothSecretsForTheRepositoryKey(t *testing.T) {
	tests := []struct {
		name, spec, collection string
		env                    map[string]string
	}{
		{"repository secrets with GITHUB_TOKEN", "github:octo-org/app", "/repos/octo-org/app/actions/secrets",
			map[string]string{"GITHUB_TOKEN": fakeGitHubToken}},
		{"environment secrets with GH_TOKEN", "github:octo-org/app:prod east", "/repos/octo-org/app/environments/prod east/secrets",
			map[string]string{"GH_TOKEN": fakeGitHubToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeGitHub(t)
			tt.env["KEYWARDEN_GITHUB_API_URL"] = srv.URL + "/"
			tt.env["GITHUB_API_URL"] = "http://127.0.0.1:1" // KEYWARDEN_ wins
			tg := mustParse(t, tt.spec, target.Env{HTTP: srv.Client(), Getenv: getenv(tt.env)})
			c := targettest.Creds("new")
			for range 2 { // idempotent
				if restore := targettest.Deliver(t, tg, c); restore != nil {
					t.Error("github returned a restore function; its secrets are write-only")
				}
			}
			got := map[string]string{
				"AWS_ACCESS_KEY_ID":     f.open(tt.collection, "AWS_ACCESS_KEY_ID"),
				"AWS_SECRET_ACCESS_KEY": f.open(tt.collection, "AWS_SECRET_ACCESS_KEY"),
			}
			want := map[string]string{"AWS_ACCESS_KEY_ID": c.AccessKeyID, "AWS_SECRET_ACCESS_KEY": c.SecretAccessKey.Reveal()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("opened secrets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitHubErrors(t *testing.T) {
	_, srv := newFakeGitHub(t)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no token", map[string]string{"GITHUB_API_URL": srv.URL}, "GITHUB_TOKEN or GH_TOKEN"},
		{"rejected token names the status and GitHub's message",
			map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": "wrong"}, "401 Unauthorized: Bad credentials"},
		{"unreachable server", map[string]string{"GITHUB_API_URL": "http://127.0.0.1:1", "GITHUB_TOKEN": "x"}, "public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := targettest.Creds("new")
			_, err := mustParse(t, "github:o/r", target.Env{HTTP: srv.Client(), Getenv: getenv(tt.env)}).Deliver(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			targettest.AssertNoSecret(t, err, c)
		})
	}
}

func TestGitHubRefusesAMalformedPublicKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("%s %s after a bad public key", r.Method, r.URL.Path)
		}
		writeJSON(w, http.StatusOK, map[string]string{"key_id": "1", "key": base64.StdEncoding.EncodeToString([]byte("short"))})
	}))
	defer srv.Close()
	env := map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": "x"}
	_, err := mustParse(t, "github:o/r", target.Env{Getenv: getenv(env)}).Deliver(context.Background(), targettest.Creds("new"))
	if err == nil || !strings.Contains(err.Error(), "curve25519") {
		t.Fatalf("err = %v, want a bad-key error", err)
	}
}
