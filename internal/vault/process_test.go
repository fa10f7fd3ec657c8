package vault

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/secret"
)

func TestProcessCommandRunsTheRealBinaryByItsAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "it's here", "keywarden")
	if err := os.MkdirAll(filepath.Dir(exe), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, nil, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "kw")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(exe)
	t.Chdir(dir)
	got, err := ProcessCommand(link, "stores/v.age")
	want := shellQuote(real) + " creds --vault " + filepath.Join(dir, "stores/v.age")
	if err != nil || got != want {
		t.Errorf("ProcessCommand = %q, %v; want %q", got, err, want)
	}
	if got, _ := ProcessCommand(exe, ""); got != shellQuote(real)+" creds" {
		t.Errorf("the default store: %q", got)
	}
	if _, err := ProcessCommand(filepath.Join(dir, "gone"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a binary that is not there: %v", err)
	}
}

func TestProcessLineQuotesForTheShell(t *testing.T) {
	for _, tc := range []struct {
		profile   string
		noSession bool
		want      string
	}{
		{"default", false, "/bin/kw creds process default"},
		{"team@acme.io/ci-1", true, "/bin/kw creds process team@acme.io/ci-1 --no-session"},
		{"my profile", false, "/bin/kw creds process 'my profile'"},
		{"it's", false, `/bin/kw creds process 'it'\''s'`},
		{"$(rm -rf ~)", false, "/bin/kw creds process '$(rm -rf ~)'"},
	} {
		if got := processLine("/bin/kw creds", tc.profile, tc.noSession); got != tc.want {
			t.Errorf("processLine(%q, %v) = %q; want %q", tc.profile, tc.noSession, got, tc.want)
		}
	}
}

func TestAskPassphrase(t *testing.T) {
	answers := func(a ...string) (func(string, bool) (string, error), *[]string) {
		var asked []string
		return func(q string, hidden bool) (string, error) {
			if !hidden {
				t.Errorf("%q asked with the answer shown", q)
			}
			asked = append(asked, q)
			if len(a) == 0 {
				return "", errors.New("no terminal")
			}
			v := a[0]
			a = a[1:]
			return v, nil
		}, &asked
	}
	ask, asked := answers("pass words")
	if p, err := AskPassphrase(ask)(false); err != nil || p.Reveal() != "pass words" || len(*asked) != 1 {
		t.Errorf("an existing store: %v %v, asked %q; want one question", p, err, *asked)
	}
	ask, asked = answers("pass words", "pass words")
	if p, err := AskPassphrase(ask)(true); err != nil || p.Reveal() != "pass words" || len(*asked) != 2 {
		t.Errorf("a new store: %v %v, asked %q; want it twice", p, err, *asked)
	}
	for _, tc := range []struct {
		confirm bool
		answers []string
		want    string
	}{
		{true, []string{"pass words", "pass wrods"}, "the passphrases differ"},
		{false, []string{""}, "an empty passphrase would not protect the store"},
		{false, nil, "no terminal (set KEYWARDEN_PASSPHRASE for unattended use)"},
	} {
		ask, _ := answers(tc.answers...)
		p, err := AskPassphrase(ask)(tc.confirm)
		if err == nil || err.Error() != tc.want || p != (secret.Secret{}) {
			t.Errorf("answers %q: %v; want %q", tc.answers, err, tc.want)
		}
	}
}
