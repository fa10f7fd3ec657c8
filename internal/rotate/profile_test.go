package rotate_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/vault"
)

// sharedFiles writes a credentials and a config file and returns a
// Profiles reading them, its notes in the returned buffer.
func sharedFiles(t *testing.T, creds, config string) (rotate.Profiles, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	files := rotate.Files{Credentials: filepath.Join(dir, "credentials"), Config: filepath.Join(dir, "config")}
	for path, body := range map[string]string{files.Credentials: creds, files.Config: config} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	notes := &bytes.Buffer{}
	return rotate.Profiles{Files: func() (rotate.Files, error) { return files, nil }, Notes: notes}, notes
}

// keyLines are a profile's key lines for seed's fake key.
func keyLines(seed string) string {
	return "aws_access_key_id = " + awstest.FakeKeyID(seed, 123456789012) + "\naws_secret_access_key = " + awstest.FakeSecret(seed) + "\n"
}

func TestProfilesKeyNamesEveryProfileHoldingTheKey(t *testing.T) {
	p, notes := sharedFiles(t,
		"[default]\n"+keyLines("a")+"region = eu-west-1\n[shared]\n"+keyLines("a")+"[other]\n"+keyLines("b"),
		"[profile cfgkey]\n"+keyLines("a"))
	k, err := p.Key("default")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := p.Files()
	if diff := cmp.Diff([]string{"credentials:default,shared", "config:cfgkey"}, k.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if k.Key().ID != awstest.FakeKeyID("a", 123456789012) || k.Key().Secret.Reveal() != awstest.FakeSecret("a") ||
		k.Files != files || k.Region != "eu-west-1" || k.KeyProfile() != "default" || notes.Len() != 0 {
		t.Errorf("key %s, files %+v, region %q, key profile %q, notes %q", k.Key().ID, k.Files, k.Region, k.KeyProfile(), notes)
	}
}

func TestProfilesKeyOfARoleProfileIsItsSource(t *testing.T) {
	p, notes := sharedFiles(t, "[base]\n"+keyLines("a"),
		"[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n")
	k, err := p.Key("admin")
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyProfile() != "base" || k.MFASerial != "arn:aws:iam::123456789012:mfa/me" ||
		!slices.Equal(k.Targets, []string{"credentials:base"}) {
		t.Errorf("key profile %q, mfa %q, targets %v", k.KeyProfile(), k.MFASerial, k.Targets)
	}
	if notes.String() != "profile admin gets its key from source_profile base: rotating base's key\n" {
		t.Errorf("notes: %q", notes)
	}
}

func TestProfilesKeyRefusesWhatIsNotALongTermKey(t *testing.T) {
	p, _ := sharedFiles(t, "[proc]\ncredential_process = /usr/bin/false\n[temp]\n"+keyLines("a")+"aws_session_token = x\n", "")
	for name, want := range map[string]error{"proc": awsfile.ErrCredentialProcess, "temp": awsfile.ErrSessionToken,
		"nope": awsfile.ErrProfileNotFound} {
		_, err := p.Key(name)
		if !errors.Is(err, want) || !strings.HasSuffix(err.Error(), ": keywarden rotates long-term access keys held in the shared files or its store") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProfilesKeyInTheStore(t *testing.T) {
	t.Setenv(vault.EnvPassphrase, "")
	store, err := vault.Open(vault.Options{Path: filepath.Join(t.TempDir(), "vault"), Backend: vault.BackendFile, ScryptLogN: 10,
		Passphrase: func(bool) (secret.Secret, error) { return secret.New("correct horse battery staple"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	a := vault.Entry{AccessKeyID: awstest.FakeKeyID("a", 123456789012), SecretAccessKey: secret.New(awstest.FakeSecret("a"))}
	for name, e := range map[string]vault.Entry{"prod": a, "prod-copy": a,
		"other": {AccessKeyID: awstest.FakeKeyID("b", 123456789012), SecretAccessKey: secret.New(awstest.FakeSecret("b"))}} {
		if err := store.Put(name, e); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := sharedFiles(t, "", "[profile prod]\ncredential_process = keywarden creds process prod\n"+
		"[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = prod\n")
	p.Vault = func() (*vault.Store, error) { return store, nil }
	for name, source := range map[string]string{"prod": "", "ops": "prod"} {
		k, err := p.Key(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k.Key().ID != a.AccessKeyID || k.Key().Secret.Reveal() != a.SecretAccessKey.Reveal() || k.SourceProfile != source ||
			!slices.Equal(k.Targets, []string{"vault:prod,prod-copy"}) || k.Files != (rotate.Files{}) {
			t.Errorf("%s: key %s, source %q, targets %v, files %+v", name, k.Key().ID, k.SourceProfile, k.Targets, k.Files)
		}
	}
}

func TestProfilesWithKeysRotatesEachKeyOnce(t *testing.T) {
	p, _ := sharedFiles(t, "[default]\n"+keyLines("a")+"[alias]\n"+keyLines("a")+"[ci]\n"+keyLines("b")+
		"[role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = ci\n[proc]\ncredential_process = /bin/false\n", "")
	names, err := p.WithKeys()
	if diff := cmp.Diff([]string{"default", "ci"}, names); err != nil || diff != "" {
		t.Errorf("%v, names (-want +got):\n%s", err, diff)
	}
	p, _ = sharedFiles(t, "[proc]\ncredential_process = /bin/false\n", "")
	if _, err := p.WithKeys(); err == nil || !strings.Contains(err.Error(), "no profile of the credentials file holds a long-term access key") {
		t.Errorf("no key: %v", err)
	}
}

// TestSharedFileRefusesWhatIsNotAKey: a new key is written into the shared
// files only when it has the shape of one; the file stays as it was.
func TestSharedFileRefusesWhatIsNotAKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	before := "[default]\naws_access_key_id = " + awstest.FakeKeyID("old", 123456789012) + "\naws_secret_access_key = " + awstest.FakeSecret("old") + "\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, err := rotate.SharedFileTarget(rotate.SharedFileSpec(awsfile.Credentials, []string{"default"}), path, &rotate.Rotation{})
	if err != nil {
		t.Fatal(err)
	}
	short := awstest.FakeSecret("new")[:39]
	_, err = tg.Deliver(t.Context(), target.Credentials{AccessKeyID: awstest.FakeKeyID("new", 123456789012), SecretAccessKey: secret.New(short)})
	if err == nil || strings.Contains(err.Error(), short) {
		t.Errorf("Deliver of a 39-character secret: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != before {
		t.Errorf("the file changed:\n%s", got)
	}
}
