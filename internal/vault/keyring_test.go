package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

func keyringStore(t *testing.T) *Store {
	t.Helper()
	mockKeyring(t)
	return mustOpen(t, Options{Path: filepath.Join(t.TempDir(), "vault.age"), Backend: BackendKeyring})
}

func TestKeyringBackendRoundTripWithoutAPassphrase(t *testing.T) {
	s := keyringStore(t)
	e := testEntry("prod")
	mustPut(t, s, "prod", e)
	sess := testSession("prod", time.Now().Add(time.Hour))
	if err := s.PutSession("prod", sess); err != nil {
		t.Fatal(err)
	}
	r := mustOpen(t, Options{Path: s.Path(), Backend: BackendFile}) // Backend ignored: the file decides
	if r.Backend() != BackendKeyring {
		t.Fatalf("Backend() = %q, want keyring", r.Backend())
	}
	got, err := r.Get("prod")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got, secretCmp); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	gotSess, ok, err := r.Session("prod", time.Now())
	if err != nil || !ok {
		t.Fatalf("Session: ok %v, err %v", ok, err)
	}
	if diff := cmp.Diff(sess, gotSess, secretCmp); diff != "" {
		t.Errorf("Session (-want +got):\n%s", diff)
	}
	// The key in the keyring is the age identity the file is encrypted to.
	v, err := keyring.Get(keyringService, keyringAccount(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.ParseX25519Identity(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := age.Decrypt(bytes.NewReader(readFile(t, s.Path())), id); err != nil {
		t.Errorf("the keyring identity does not decrypt the file: %v", err)
	}
}

func TestKeyringIdentityGoneIsAClearError(t *testing.T) {
	s := keyringStore(t)
	mustPut(t, s, "prod", testEntry("prod"))
	before := readFile(t, s.Path())
	if err := keyring.Delete(keyringService, keyringAccount(s.Path())); err != nil {
		t.Fatal(err)
	}
	r := mustOpen(t, Options{Path: s.Path()})
	_, err := r.Get("prod")
	wantErr(t, err, ErrNoKeyring)
	if !strings.Contains(err.Error(), "no longer holds") {
		t.Errorf("error %q does not say the key is gone", err)
	}
	wantErr(t, r.Put("dev", testEntry("dev")), ErrNoKeyring)
	if !bytes.Equal(before, readFile(t, s.Path())) {
		t.Fatal("the store changed")
	}
}

func TestKeyringHoldingAnotherKeyIsAClearError(t *testing.T) {
	s := keyringStore(t)
	mustPut(t, s, "prod", testEntry("prod"))
	other, _ := age.GenerateX25519Identity()
	if err := keyring.Set(keyringService, keyringAccount(s.Path()), other.String()); err != nil {
		t.Fatal(err)
	}
	_, err := mustOpen(t, Options{Path: s.Path()}).Get("prod")
	wantErr(t, err, ErrNoKeyring)
	if strings.Contains(err.Error(), other.String()) {
		t.Error("error shows the keyring's key")
	}
}

func TestKeyringUnavailableIsErrNoKeyring(t *testing.T) {
	s := keyringStore(t)
	mustPut(t, s, "prod", testEntry("prod"))
	keyring.MockInitWithError(errors.New("secret service is locked"))
	_, err := mustOpen(t, Options{Path: s.Path()}).Get("prod")
	wantErr(t, err, ErrNoKeyring)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	keyring.MockInit()
	_, err = mustOpen(t, Options{Path: s.Path()}).Get("prod")
	wantErr(t, err, ErrNoKeyring)
}

func TestNewStoreBackendChoice(t *testing.T) {
	tests := []struct {
		name     string
		keyring  string // "ok", "failing" or "no bus"
		env, opt string
		want     string
	}{
		{"keyring when it answers", "ok", "", "", BackendKeyring},
		{"file when there is no D-Bus", "no bus", "", "", BackendFile},
		{"file when the keyring fails", "failing", "", "", BackendFile},
		{"env forces file", "ok", BackendFile, "", BackendFile},
		{"env forces keyring", "no bus", BackendKeyring, "", BackendKeyring},
		{"option beats env", "ok", BackendKeyring, BackendFile, BackendFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockKeyring(t)
			switch tt.keyring {
			case "failing":
				keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided"))
			case "no bus":
				t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
			}
			t.Setenv(EnvBackend, tt.env)
			s := mustOpen(t, Options{Path: filepath.Join(t.TempDir(), "v.age"), Backend: tt.opt})
			if s.Backend() != tt.want {
				t.Errorf("Backend() = %q, want %q", s.Backend(), tt.want)
			}
		})
	}
}

// TestProbeWithoutDBusFallsBackToFile: with no session bus the probe must
// answer "no" before go-keyring is asked (which would autolaunch D-Bus or
// wait for it), whatever provider go-keyring has.
func TestProbeWithoutDBusFallsBackToFile(t *testing.T) {
	cleanEnv(t)
	if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
		t.Skip("this machine has a D-Bus session bus")
	}
	if err := probeKeyring(); err == nil {
		t.Fatal("probe found a keyring without a session bus")
	}
	s := mustOpen(t, Options{Path: filepath.Join(t.TempDir(), "v.age")})
	if s.Backend() != BackendFile {
		t.Errorf("Backend() = %q, want file", s.Backend())
	}
}

func TestExistingStoreKeepsItsBackend(t *testing.T) {
	f := fileStore(t)
	mustPut(t, f, "a", testEntry("a"))
	k := keyringStore(t)
	mustPut(t, k, "a", testEntry("a"))
	t.Setenv(EnvBackend, BackendKeyring)
	if b := mustOpen(t, Options{Path: f.Path(), Backend: BackendKeyring}).Backend(); b != BackendFile {
		t.Errorf("file store opened as %q", b)
	}
	t.Setenv(EnvBackend, BackendFile)
	if b := mustOpen(t, Options{Path: k.Path(), Backend: BackendFile}).Backend(); b != BackendKeyring {
		t.Errorf("keyring store opened as %q", b)
	}
}

// TestTwoWritersCreatingOneKeyringStoreShareOneKey: each would otherwise
// generate and save its own identity, and the store would end up encrypted to
// a key the keyring no longer holds.
func TestTwoWritersCreatingOneKeyringStoreShareOneKey(t *testing.T) {
	for round := range 5 {
		s := keyringStore(t)
		stores := []*Store{s, mustOpen(t, Options{Path: s.Path(), Backend: BackendKeyring})}
		var wg sync.WaitGroup
		for i, st := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := st.Put("p"+strconv.Itoa(i), testEntry("e")); err != nil {
					t.Errorf("round %d: Put: %v", round, err)
				}
			}()
		}
		wg.Wait()
		list, err := mustOpen(t, Options{Path: s.Path()}).List()
		if err != nil || len(list) != 2 {
			t.Fatalf("round %d: List = %v, %v; want both entries", round, list, err)
		}
	}
}
