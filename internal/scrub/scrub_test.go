package scrub

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/secret"
)

// TestScanFindsKeysInTheUsualPlaces builds a home with keys where people
// leave them and checks each is found once, in its file, line and profile.
func TestScanFindsKeysInTheUsualPlaces(t *testing.T) {
	home := t.TempDir()
	def, work, ci := newKey("default"), newKey("work"), newKey("ci")
	rc, env, docker, vscode := newKey("bashrc"), newKey("dotenv"), newKey("docker"), newKey("vscode")
	loneID := newKey("netrc").id
	sessID, sessSec, sessTok := awstest.FakeSessionKeyID("hist", 123456789012), awstest.FakeSecret("hist"),
		awstest.FakeSessionToken("hist")

	p := func(rel string) string { return filepath.Join(home, filepath.FromSlash(rel)) }
	write(t, home, ".aws/credentials", fmt.Sprintf(
		"# work laptop\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[work]\nregion = eu-west-1\naws_access_key_id=%s\naws_secret_access_key=%s\n",
		def.id, def.sec, work.id, work.sec))
	write(t, home, ".aws/config", fmt.Sprintf(
		"[default]\nregion = us-east-1\n[profile ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n", ci.id, ci.sec))
	// The same key exported twice is one key to import.
	write(t, home, ".bashrc", fmt.Sprintf(
		"alias ll='ls -l'\n\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n# again\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n",
		rc.id, rc.sec, rc.id, rc.sec))
	write(t, home, "myapp/.env", fmt.Sprintf("DEBUG=1\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", env.id, env.sec))
	// A registry whose basic auth is an access key pair, as docker login stores it.
	write(t, home, ".docker/config.json", fmt.Sprintf(
		"{\n\t\"auths\": {\n\t\t\"registry.example.com\": {\n\t\t\t\"auth\": %q\n\t\t}\n\t}\n}\n", b64(docker.id+":"+docker.sec)))
	write(t, home, ".config/Code/User/settings.json", fmt.Sprintf(
		"{\n  \"editor.tabSize\": 2,\n  \"aws.accessKeyId\": %q,\n  \"aws.secretAccessKey\": %q\n}\n", vscode.id, vscode.sec))
	write(t, home, ".netrc", "machine s3.amazonaws.com\n  login "+loneID+"\n")
	write(t, home, ".zsh_history", fmt.Sprintf(
		": 1700000000:0;ls\n: 1700000001:0;export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s\n",
		sessID, sessSec, sessTok))
	// Not places: a key in a dependency, in a cache, and in a random file.
	other := newKey("elsewhere")
	pairText := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", other.id, other.sec)
	write(t, home, ".config/app/node_modules/pkg/.env", pairText)
	write(t, home, ".config/app/Cache/blob.txt", pairText)
	write(t, home, "notes/todo.txt", pairText)

	got, w := scanHome(t, home)
	want := []Found{
		pairFound(p(".aws/config"), 4, ci, "ci"),
		pairFound(p(".aws/credentials"), 3, def, "default"),
		pairFound(p(".aws/credentials"), 8, work, "work"),
		pairFound(p(".bashrc"), 3, rc),
		pairFound(p(".config/Code/User/settings.json"), 3, vscode),
		pairFound(p(".docker/config.json"), 4, docker),
		{Path: p(".netrc"), Rule: "aws-access-key-id", Line: 2, AccessKeyID: loneID},
		{Path: p(".zsh_history"), Rule: "aws-session-credentials", Line: 2, AccessKeyID: sessID,
			SecretAccessKey: secret.New(sessSec)},
		pairFound(p("myapp/.env"), 2, env),
	}
	if diff := cmp.Diff(want, got, foundOpts); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	if len(w.msgs) > 0 {
		t.Errorf("warnings = %q, want none", w.msgs)
	}
}

func TestScanAttributesKeysAsTheSDKReadsThem(t *testing.T) {
	shared, stale := newKey("shared"), newKey("stale")
	tests := []struct {
		name     string
		file     string
		content  string
		profiles []string // of the one key found
	}{
		{
			name:     "key shared by two profiles names both",
			file:     ".aws/credentials",
			content:  fmt.Sprintf("[a]\naws_access_key_id=%s\naws_secret_access_key=%s\n[b]\naws_access_key_id=%s\naws_secret_access_key=%s\n", shared.id, shared.sec, shared.id, shared.sec),
			profiles: []string{"a", "b"},
		},
		{
			name:    "profile-prefixed section in credentials file is not a profile",
			file:    ".aws/credentials",
			content: fmt.Sprintf("[profile x]\naws_access_key_id=%s\naws_secret_access_key=%s\n", stale.id, stale.sec),
		},
		{
			name:    "bare section other than default in config file is not a profile",
			file:    ".aws/config",
			content: fmt.Sprintf("[x]\naws_access_key_id=%s\naws_secret_access_key=%s\n", stale.id, stale.sec),
		},
		{
			name:     "backup of the credentials file is read as one",
			file:     ".aws/credentials.bak",
			content:  fmt.Sprintf("[old]\naws_access_key_id=%s\naws_secret_access_key=%s\n", shared.id, shared.sec),
			profiles: []string{"old"},
		},
		{
			name:    "file the sdk cannot read keeps its key without a profile",
			file:    ".aws/credentials",
			content: fmt.Sprintf("[a]\naws_access_key_id=%s\naws_secret_access_key=%s\nregion=\"\n", stale.id, stale.sec),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			write(t, home, tt.file, tt.content)
			got, _ := scanHome(t, home)
			if len(got) != 1 {
				t.Fatalf("found %d keys, want 1: %v", len(got), got)
			}
			if diff := cmp.Diff(tt.profiles, got[0].Profiles); diff != "" {
				t.Errorf("profiles (-want +got):\n%s", diff)
			}
			if want := ""; len(tt.profiles) > 0 && got[0].Profile != tt.profiles[0] || len(tt.profiles) == 0 && got[0].Profile != want {
				t.Errorf("Profile = %q, want the first of %q", got[0].Profile, tt.profiles)
			}
			if !got[0].Importable {
				t.Errorf("a full long-term pair is importable wherever it is: %v", got[0])
			}
		})
	}
}

// TestScanIgnoresWhatTheScannerIgnores: AWS's documentation example and a
// line marked keywarden:allow are the scanner's decisions, kept here.
func TestScanIgnoresWhatTheScannerIgnores(t *testing.T) {
	home := t.TempDir()
	write(t, home, ".aws/credentials",
		"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
	k := newKey("allowed")
	write(t, home, ".env", fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s # keywarden:allow\n", k.id, k.sec))
	got, _ := scanHome(t, home)
	if len(got) != 0 {
		t.Errorf("found %v, want nothing", got)
	}
}

func TestScanExtraDirsAndFiles(t *testing.T) {
	dir := t.TempDir()
	deep, file := newKey("deep"), newKey("file")
	write(t, dir, "a/b/c/deploy.sh", fmt.Sprintf("export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", deep.id, deep.sec))
	write(t, dir, "a/node_modules/x/.env", fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", file.id, file.sec))
	one := write(t, t.TempDir(), "creds.txt", fmt.Sprintf("%s\n%s\n", file.id, file.sec))

	got, w := scanHome(t, "", dir, one, filepath.Join(dir, "missing"))
	want := []Found{
		pairFound(filepath.Join(dir, "a", "b", "c", "deploy.sh"), 1, deep),
		pairFound(one, 1, file),
	}
	if diff := cmp.Diff(want, got, foundOpts); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	if !w.about("missing", "no such file") {
		t.Errorf("warnings = %q, want one about the missing extra path", w.msgs)
	}
}

// TestFoundNeverShowsTheSecret covers every way a Found is printed.
func TestFoundNeverShowsTheSecret(t *testing.T) {
	k := newKey("print")
	f := pairFound("/h/.bashrc", 3, k, "default")
	for _, s := range []string{f.String(), fmt.Sprint(f), fmt.Sprintf("%+v", f), fmt.Sprintf("%#v", f), fmt.Sprintf("%q", f)} {
		if strings.Contains(s, k.sec) {
			t.Errorf("output shows the secret: %s", s)
		}
	}
	if want := "/h/.bashrc:3: aws-access-key-pair " + k.id + " secret " + k.sec[:4] + "… profile default (importable)"; f.String() != want {
		t.Errorf("String() = %q, want %q", f.String(), want)
	}
}

func TestScanStopsWhenCancelled(t *testing.T) {
	home := t.TempDir()
	k := newKey("cancel")
	write(t, home, ".bashrc", fmt.Sprintf("export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.id, k.sec))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, home, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestImportableTakesEveryProfileOfAKeyOnce(t *testing.T) {
	found := []Found{
		{Path: "credentials", Importable: true, Profile: "default", Profiles: []string{"default", "ci"}},
		{Path: ".bashrc", Importable: true},                                                   // not in a profile
		{Path: "credentials", Importable: false, Profile: "temp", Profiles: []string{"temp"}}, // a session
		{Path: "config", Importable: true, Profile: "ci", Profiles: []string{"ci", "dev"}},
	}
	profiles, outside := Importable(found)
	if !cmp.Equal(profiles, []string{"default", "ci", "dev"}) || outside != 2 {
		t.Errorf("Importable = %v, %d; want [default ci dev], 2", profiles, outside)
	}
}
