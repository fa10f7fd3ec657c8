package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// malformed is a key whose secret lost its last character, as a careless
// paste leaves it.
func malformed(seed string) fixtureKey {
	k := newFixtureKey(seed)
	short := k.secret[:len(k.secret)-1]
	return fixtureKey{k.id, short, "aws_access_key_id = " + k.id + "\naws_secret_access_key = " + short + "\n"}
}

// TestImportRefusesWhatIsNotAKey: a profile whose key is not shaped like one
// is refused, named with its file, before anything is asked or changed; with
// --all it is skipped with the same line and the others are imported.
func TestImportRefusesWhatIsNotAKey(t *testing.T) {
	bad, good := malformed("bad"), newFixtureKey("good")
	before := "[bad]\n" + bad.lines + "[good]\n" + good.lines
	files := sharedFiles(t, before, "")
	r := newImportRun(t, files, true)
	err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"good", "bad"}})
	if !errors.Is(err, credential.ErrNotSecret) || !strings.HasPrefix(err.Error(), "profile bad in "+files.Credentials+": ") {
		t.Fatalf("import of a malformed key: %v", err)
	}
	if strings.Contains(err.Error(), bad.secret) || len(r.asked) > 0 || r.opened || readText(t, files.Credentials) != before {
		t.Errorf("refused, yet asked %v, opened the store %v, or changed the file:\n%s", r.asked, r.opened, readText(t, files.Credentials))
	}

	if err := r.im.Run(context.Background(), ImportRequest{All: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.err.String(), "profile bad in "+files.Credentials+": malformed secret access key: ") ||
		!strings.Contains(r.err.String(), ": skipped\n") || strings.Contains(r.err.String(), bad.secret) {
		t.Errorf("--all: stderr %q, want bad skipped with the reason", r.err.String())
	}
	if _, err := r.store.Get("good"); err != nil {
		t.Errorf("--all: good not imported: %v", err)
	}
	if _, err := r.store.Get("bad"); !errors.Is(err, ErrNotFound) {
		t.Errorf("--all: bad imported: %v", err)
	}
}

func TestPutRefusesWhatIsNotAKey(t *testing.T) {
	s := fileStore(t)
	e := testEntry("p")
	e.AccessKeyID = "AKIA" + e.AccessKeyID[5:] // 19 characters
	if err := s.Put("p", e); !errors.Is(err, credential.ErrNotKeyID) || !strings.HasPrefix(err.Error(), "store profile p: ") {
		t.Errorf("Put of a short key id: %v", err)
	}
	e = testEntry("p")
	e.SecretAccessKey = secret.New(e.SecretAccessKey.Reveal() + "\n")
	if err := s.Put("p", e); !errors.Is(err, credential.ErrNotSecret) || strings.Contains(err.Error(), e.SecretAccessKey.Reveal()) {
		t.Errorf("Put of a secret with a newline: %v", err)
	}
}

// TestExportRefusesAStoredKeyThatIsNotOne: a store written before the check
// (or by hand) may hold one; it is never written into the file.
func TestExportRefusesAStoredKeyThatIsNotOne(t *testing.T) {
	bad := malformed("old")
	before := "[old]\ncredential_process = keywarden creds process old\n"
	files := sharedFiles(t, before, "")
	s := fileStore(t)
	if err := s.update(func(d *doc) error {
		d.Entries["old"] = Entry{AccessKeyID: bad.id, SecretAccessKey: secret.New(bad.secret)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, _, err := Export(context.Background(), s, files, "old", false)
	if !errors.Is(err, credential.ErrNotSecret) || strings.Contains(err.Error(), bad.secret) {
		t.Errorf("Export of a malformed stored key: %v", err)
	}
	if got := readText(t, files.Credentials); got != before {
		t.Errorf("the file changed:\n%s", got)
	}
	if _, err := s.Get("old"); err != nil {
		t.Errorf("the entry left the store: %v", err)
	}
}

// TestImportAllNamesADamagedKeyItSkips: with --all, a profile whose key
// holds NUL bytes (a damaged file) is skipped with the reason, not passed
// over in silence, and never shown.
func TestImportAllNamesADamagedKeyItSkips(t *testing.T) {
	good := newFixtureKey("good")
	before := "[damaged]\naws_access_key_id = AKIA\x00\x00\x00\naws_secret_access_key = x\x00y\n[good]\n" + good.lines
	files := sharedFiles(t, before, "")
	r := newImportRun(t, files, true)
	if err := r.im.Run(context.Background(), ImportRequest{All: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.err.String(), `resolve profile "damaged" in `) || !strings.Contains(r.err.String(), ": skipped\n") {
		t.Errorf("--all: stderr %q, want the damaged profile named as skipped", r.err.String())
	}
	if _, err := r.store.Get("good"); err != nil {
		t.Errorf("--all: good not imported: %v", err)
	}
}
