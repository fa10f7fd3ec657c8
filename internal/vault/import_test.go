package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
)

// fixtureKey is a fake long-term key and the two lines that hold it.
type fixtureKey struct{ id, secret, lines string }

func newFixtureKey(seed string) fixtureKey {
	id, sec := awstest.FakeKeyID(seed, 123456789012), awstest.FakeSecret(seed)
	return fixtureKey{id, sec, "aws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n"}
}

// sharedFiles writes the two shared files (a "" one is left missing).
func sharedFiles(t *testing.T, creds, config string) awsfile.Shared {
	t.Helper()
	dir := t.TempDir()
	s := awsfile.Shared{Credentials: filepath.Join(dir, "credentials"), Config: filepath.Join(dir, "config")}
	for path, text := range map[string]string{s.Credentials: creds, s.Config: config} {
		if text == "" {
			continue
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func readText(t *testing.T, path string) string { return string(readFile(t, path)) }

func plan(t *testing.T, files awsfile.Shared, req ImportRequest) (ImportPlan, error) {
	t.Helper()
	creds, config, err := files.Load()
	if err != nil {
		t.Fatal(err)
	}
	return PlanImport(creds, config, files, req)
}

func TestPlanImportChoosesProfiles(t *testing.T) {
	dev, ci := newFixtureKey("dev"), newFixtureKey("ci")
	files := sharedFiles(t, "[default]\n"+dev.lines+"[ci]\n"+ci.lines+"[done]\ncredential_process = keywarden creds process done\n[temp]\n"+ci.lines+"aws_session_token = x\n",
		"[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = ci\n[profile cfg]\n"+dev.lines)
	names := func(p ImportPlan) []string {
		var out []string
		for _, k := range p.Keys {
			out = append(out, k.Profile+"@"+k.Kind.String())
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		req     ImportRequest
		keys    []string
		skipped []string
	}{
		{"default", ImportRequest{}, []string{"default@credentials"}, nil},
		{"AWS_PROFILE", ImportRequest{AWSProfile: "ci"}, []string{"ci@credentials"}, nil},
		{"named, from the config file", ImportRequest{Profiles: []string{"cfg", "ci"}, AWSProfile: "x"},
			[]string{"cfg@config", "ci@credentials"}, nil},
		{"all: what holds a key of its own, silently", ImportRequest{All: true}, []string{"default@credentials", "ci@credentials"}, nil},
		{"named skips, with a line each", ImportRequest{Profiles: []string{"done", "role", "ci"}}, []string{"ci@credentials"}, []string{
			"profile done already uses credential_process: skipped",
			"profile role takes its key from source_profile ci: import ci instead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := plan(t, files, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(names(p), tc.keys) || !cmp.Equal(p.Skipped, tc.skipped) {
				t.Errorf("plan: keys %v skipped %q; want %v %q", names(p), p.Skipped, tc.keys, tc.skipped)
			}
		})
	}
	p, _ := plan(t, files, ImportRequest{Profiles: []string{"default"}})
	if k := p.Keys[0]; k.Key.ID != dev.id || k.Key.Secret.Reveal() != dev.secret || k.Path != files.Credentials {
		t.Errorf("plan of default: %+v", k)
	}
	p, err := plan(t, files, ImportRequest{Profiles: []string{"done", "temp"}})
	if !errors.Is(err, awsfile.ErrSessionToken) || len(p.Keys) != 0 || len(p.Skipped) != 1 {
		t.Errorf("a profile without a long-term key: %v, %+v; want the error and the skip before it", err, p)
	}
}

// importer is an Importer over files and a fresh store, answering answer,
// with what it printed.
type importRun struct {
	im       Importer
	store    *Store
	out, err bytes.Buffer
	asked    []string
	opened   bool
}

func newImportRun(t *testing.T, files awsfile.Shared, answer bool) *importRun {
	t.Helper()
	r := &importRun{store: fileStore(t)}
	r.im = Importer{
		Files:   files,
		Confirm: func(q string) bool { r.asked = append(r.asked, q); return answer },
		Open:    func() (*Store, error) { r.opened = true; return r.store, nil },
		Command: func() (string, error) { return "'/opt/key warden/keywarden' creds", nil },
		Now:     func() time.Time { return time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("x", 7200)) },
		Out:     &r.out, Err: &r.err,
	}
	return r
}

func TestImportMovesTheKeyAndRepointsTheProfile(t *testing.T) {
	dev := newFixtureKey("dev")
	files := sharedFiles(t, "# mine\n[dev]\nregion = eu-west-1\n"+dev.lines+"\n[copy]\n"+dev.lines, "")
	r := newImportRun(t, files, true)
	if err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"dev"}}); err != nil {
		t.Fatal(err)
	}
	want := "# mine\n[dev]\nregion = eu-west-1\ncredential_process = '/opt/key warden/keywarden' creds process dev\n\n[copy]\n" + dev.lines
	if got := readText(t, files.Credentials); got != want {
		t.Errorf("credentials file:\n%s\nwant:\n%s", got, want)
	}
	e, err := reopen(t, r.store).Get("dev")
	if err != nil || e.AccessKeyID != dev.id || e.SecretAccessKey.Reveal() != dev.secret || e.ImportedFrom != files.Credentials ||
		!e.ImportedAt.Equal(time.Date(2025, 6, 1, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("store entry %+v, %v", e, err)
	}
	wantOut := "will import profile dev (" + dev.id + ") from " + files.Credentials + "\nimported dev (" + dev.id + ") into " + r.store.Path() + "\n"
	wantErr := "warning: profile copy still holds key " + dev.id + " in plaintext: import it too (keywarden creds import --profile copy)\n"
	if r.out.String() != wantOut || r.err.String() != wantErr {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s", &r.out, wantOut, &r.err, wantErr)
	}
	if !cmp.Equal(r.asked, []string{"move 1 key(s) into the encrypted store and remove them from the file?"}) {
		t.Errorf("asked %q", r.asked)
	}
	if strings.Contains(r.out.String()+r.err.String(), dev.secret) {
		t.Error("the secret was printed")
	}
}

func TestImportKeepPlaintextAndNoSession(t *testing.T) {
	dev := newFixtureKey("dev")
	files := sharedFiles(t, "", "[profile dev]\n"+dev.lines)
	r := newImportRun(t, files, true)
	r.im.KeepPlaintext, r.im.NoSession = true, true
	if err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"dev"}}); err != nil {
		t.Fatal(err)
	}
	want := "[profile dev]\ncredential_process = '/opt/key warden/keywarden' creds process dev --no-session\n" + dev.lines
	if got := readText(t, files.Config); got != want {
		t.Errorf("config file:\n%s\nwant:\n%s", got, want)
	}
}

func TestImportDeclinedChangesNothing(t *testing.T) {
	dev := newFixtureKey("dev")
	files := sharedFiles(t, "[default]\n"+dev.lines, "")
	r := newImportRun(t, files, false)
	err := r.im.Run(context.Background(), ImportRequest{})
	if !errors.Is(err, ErrDeclined) || r.opened || readText(t, files.Credentials) != "[default]\n"+dev.lines {
		t.Errorf("declined: %v, store opened %v; want ErrDeclined, no store, the file as it was", err, r.opened)
	}
}

func TestImportOfNothingAsksNothing(t *testing.T) {
	files := sharedFiles(t, "[done]\ncredential_process = x\n", "")
	r := newImportRun(t, files, true)
	if err := r.im.Run(context.Background(), ImportRequest{All: true}); err != nil || r.out.String() != "nothing to import\n" || r.asked != nil {
		t.Errorf("Run: %v %q, asked %q", err, &r.out, r.asked)
	}
}

func TestImportStopsBeforeTheFileWhenTheStoreFails(t *testing.T) {
	dev := newFixtureKey("dev")
	files := sharedFiles(t, "[default]\n"+dev.lines, "")
	r := newImportRun(t, files, true)
	t.Setenv(EnvPassphrase, "")
	r.store = mustOpen(t, Options{Path: filepath.Join(t.TempDir(), "v.age"), Backend: BackendFile, ScryptLogN: testLogN})
	err := r.im.Run(context.Background(), ImportRequest{})
	if !errors.Is(err, ErrNoPassphrase) || !strings.HasPrefix(err.Error(), "import profile default: ") ||
		readText(t, files.Credentials) != "[default]\n"+dev.lines {
		t.Errorf("Run: %v; want the store's error and the file untouched", err)
	}
}

func TestExportUndoesImport(t *testing.T) {
	dev := newFixtureKey("dev")
	before := "# mine\n[dev]\nregion = eu-west-1\n" + dev.lines + "\n[other]\nregion = us-east-1\n"
	files := sharedFiles(t, before, "")
	if err := os.Chmod(files.Credentials, 0o640); err != nil {
		t.Fatal(err)
	}
	r := newImportRun(t, files, true)
	if err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"dev"}}); err != nil {
		t.Fatal(err)
	}
	entry, path, err := Export(context.Background(), r.store, files, "dev", false)
	if err != nil || entry.AccessKeyID != dev.id || path != files.Credentials {
		t.Fatalf("Export: %+v %q %v", entry, path, err)
	}
	if got := readText(t, files.Credentials); got != before {
		t.Errorf("after export:\n%s\nwant the file as before:\n%s", got, before)
	}
	if st, _ := os.Stat(files.Credentials); st.Mode().Perm() != 0o640 {
		t.Errorf("export changed the file's mode to %v; want it kept", st.Mode().Perm())
	}
	if _, err := reopen(t, r.store).Get("dev"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the key must leave the store: %v", err)
	}
	_, _, err = Export(context.Background(), r.store, files, "dev", false)
	if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), "export: ") || strings.Count(err.Error(), "dev") != 1 {
		t.Errorf("exporting a profile not in the store: %v", err)
	}
}

func TestExportWritesTheFileOfTheCredentialProcessLine(t *testing.T) {
	files := sharedFiles(t, "[other]\nregion = us-east-1\n", "[profile dev]\ncredential_process = keywarden creds process dev\n")
	store := fileStore(t)
	mustPut(t, store, "dev", testEntry("dev"))
	_, path, err := Export(context.Background(), store, files, "dev", true)
	if err != nil || path != files.Config {
		t.Fatalf("Export: %q %v", path, err)
	}
	e := testEntry("dev")
	want := "[profile dev]\naws_access_key_id = " + e.AccessKeyID + "\naws_secret_access_key = " + e.SecretAccessKey.Reveal() + "\n"
	if got := readText(t, files.Config); got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	if _, err := reopen(t, store).Get("dev"); err != nil {
		t.Errorf("keepStore: the key must stay in the store: %v", err)
	}
}

// TestImportPutsTheLineWhereTheKeyWas: credential_process takes the place
// of the first key line, and export puts the key lines back in its place,
// so settings after the key lines do not move and export gives the file
// back byte for byte.
func TestImportPutsTheLineWhereTheKeyWas(t *testing.T) {
	dev := newFixtureKey("dev")
	before := "[dev]\n" + dev.lines + "region = eu-west-1\noutput = json\n\n[other]\nregion = us-east-1\n"
	files := sharedFiles(t, before, "")
	r := newImportRun(t, files, true)
	if err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"dev"}}); err != nil {
		t.Fatal(err)
	}
	want := "[dev]\ncredential_process = '/opt/key warden/keywarden' creds process dev\nregion = eu-west-1\noutput = json\n\n[other]\nregion = us-east-1\n"
	if got := readText(t, files.Credentials); got != want {
		t.Errorf("after import:\n%s\nwant:\n%s", got, want)
	}
	if _, _, err := Export(context.Background(), r.store, files, "dev", false); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, files.Credentials); got != before {
		t.Errorf("after export:\n%s\nwant the file as before:\n%s", got, before)
	}
}
