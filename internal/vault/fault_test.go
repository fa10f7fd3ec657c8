package vault_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/scrub"
	"github.com/keywarden/keywarden/internal/vault"
)

// The fault suite of 'creds import' and of 'creds scrub --import' (which
// finds the profiles with scrub and imports them the same way): each is run
// once to learn its steps (every fsync and rename of the store, its backup
// and the credentials file), then once per step with that step failing and
// once with the process killed there, then run again as the user would. The
// invariants are checked after every run (importInvariants).

var importPaths = []struct {
	name     string
	profiles func(t *testing.T, home string) []string
}{
	{"creds import", func(*testing.T, string) []string { return []string{"default", "ci"} }},
	{"creds scrub --import", func(t *testing.T, home string) []string {
		found, err := scrub.Scan(context.Background(), home, nil, func(err error) { t.Errorf("scrub: %v", err) })
		if err != nil {
			t.Fatal(err)
		}
		profiles, _ := scrub.Importable(found)
		return profiles
	}},
}

// importFixture is a home whose credentials file (mode 0640, comments, an
// unrelated profile) holds two keys, and a store outside it.
type importFixture struct {
	t     *testing.T
	home  string
	files awsfile.Shared
	store *vault.Store
	keys  map[string][2]string // profile -> id, secret
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	t.Setenv(vault.EnvPassphrase, "correct horse battery staple")
	t.Setenv(vault.EnvPath, "")
	home := t.TempDir() // not MemDir: scrub does not search system directories such as /dev/shm
	f := &importFixture{t: t, home: home, keys: map[string][2]string{}}
	f.files = awsfile.Shared{Credentials: filepath.Join(home, ".aws", "credentials"), Config: filepath.Join(home, ".aws", "config")}
	text := "# keys\n[default]\n"
	for _, p := range []string{"default", "ci"} {
		f.keys[p] = [2]string{awstest.FakeKeyID(p, 123456789012), awstest.FakeSecret(p)}
	}
	text += "aws_access_key_id = " + f.keys["default"][0] + "\naws_secret_access_key = " + f.keys["default"][1] +
		"\nregion = eu-west-1\n\n[other]\nregion = us-east-1\n\n[ci]\naws_access_key_id=" + f.keys["ci"][0] +
		"\naws_secret_access_key=" + f.keys["ci"][1] + "\n"
	if err := os.MkdirAll(filepath.Dir(f.files.Credentials), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.files.Credentials, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	store, err := vault.Open(vault.Options{Path: filepath.Join(awstest.MemDir(t), "vault.age"), Backend: vault.BackendFile, ScryptLogN: 10})
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	return f
}

func (f *importFixture) importer() vault.Importer {
	return vault.Importer{Files: f.files, Confirm: func(string) bool { return true },
		Open: func() (*vault.Store, error) { return f.store, nil }, Command: func() (string, error) { return "keywarden creds", nil },
		Now: time.Now, Out: io.Discard, Err: io.Discard}
}

func (f *importFixture) run(profiles []string) error {
	return f.importer().Run(context.Background(), vault.ImportRequest{Profiles: profiles})
}

// texts are the credentials files an import may leave: every profile either
// as it was or imported (its key lines replaced by a credential_process
// line), learnt from imports of each subset on fresh fixtures.
func importTexts(t *testing.T) []string {
	var out []string
	for _, subset := range [][]string{nil, {"default"}, {"ci"}, {"default", "ci"}} {
		f := newImportFixture(t)
		if subset != nil {
			if err := f.run(subset); err != nil {
				t.Fatal(err)
			}
		}
		data, err := os.ReadFile(f.files.Credentials)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

// Invariants checked after every run of an import (ImportInvariantsPerRun):
//  1. nothing lost: every key is in the file or the store, whole;
//  2. the file is one of the texts an import may leave, byte for byte: each
//     profile as it was or imported, every other byte kept;
//  3. no plaintext copy is left: nothing in ~/.aws but the credentials
//     file, its lock, and after a killed write its temporary file (fixed
//     name: the next import removes it) — and after the next import not
//     that either;
//  4. the credentials file keeps its mode (0640), the store is 0600.
const ImportInvariantsPerRun = 4

func (f *importFixture) check(what string, texts []string, done bool) {
	f.t.Helper()
	data, err := os.ReadFile(f.files.Credentials)
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
	for p, k := range f.keys {
		inFile := strings.Contains(string(data), k[0]) && strings.Contains(string(data), k[1])
		e, err := f.store.Get(p)
		inStore := err == nil && e.AccessKeyID == k[0] && e.SecretAccessKey.Reveal() == k[1]
		if !inFile && !inStore || done && !inStore {
			f.t.Fatalf("%s: invariant 1: the key of %s is in neither the file (%v) nor the store (%v)", what, p, inFile, err)
		}
	}
	if i := slices.Index(texts, string(data)); i < 0 || done && i != len(texts)-1 {
		f.t.Fatalf("%s: invariant 2: the credentials file is not one an import leaves:\n%s", what, data)
	}
	tmp := atomicfile.TempPath(f.files.Credentials)
	err = filepath.WalkDir(filepath.Dir(f.files.Credentials), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == f.files.Credentials || strings.HasSuffix(p, ".lock") || p == tmp && !done {
			return err
		}
		return fmt.Errorf("%s is left", p)
	})
	if err != nil {
		f.t.Fatalf("%s: invariant 3: %v", what, err)
	}
	if st, err := os.Stat(f.files.Credentials); err != nil || st.Mode().Perm() != 0o640 {
		f.t.Fatalf("%s: invariant 4: the credentials file's mode is not kept: %v", what, err)
	}
	if st, err := os.Stat(f.store.Path()); err == nil && st.Mode().Perm() != 0o600 {
		f.t.Fatalf("%s: invariant 4: the store's mode is %v", what, st.Mode().Perm())
	}
}

// TestImportUnderFaultsAtEveryStep is the table: both paths × every step ×
// {failed, killed}, each then run again.
func TestImportUnderFaultsAtEveryStep(t *testing.T) {
	texts := importTexts(t)
	for _, path := range importPaths {
		t.Run(path.name, func(t *testing.T) {
			s := &fault.Script{}
			fault.Set(t, s.Step)
			f := newImportFixture(t)
			if err := f.run(path.profiles(t, f.home)); err != nil {
				t.Fatal(err)
			}
			fault.Set(t, nil)
			steps := s.Steps()
			f.check("the import without a fault", texts, true)
			t.Logf("%d steps: %s", len(steps), strings.Join(steps, ", "))
			for n := 1; n <= len(steps); n++ {
				for _, kill := range []bool{false, true} {
					what := fmt.Sprintf("step %d (%s), killed %v", n, steps[n-1], kill)
					f := newImportFixture(t)
					profiles := path.profiles(t, f.home)
					fault.Set(t, (&fault.Script{N: n, Kill: kill}).Step)
					killed, err := fault.Run(func() error { return f.run(profiles) })
					fault.Set(t, nil)
					if !killed && err == nil {
						t.Fatalf("%s: the import went on as if nothing had failed", what)
					}
					f.check(what, texts, false)
					if err := f.run(path.profiles(t, f.home)); err != nil {
						t.Fatalf("%s: the next import: %v", what, err)
					}
					f.check(what+", run again", texts, true)
				}
			}
		})
	}
}
