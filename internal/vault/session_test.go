package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// minter stands in for STS: it records the specs it mints for and issues
// a new session each time, valid for the spec's (last) duration from now.
type minter struct {
	now   time.Time
	specs []SessionSpec
	err   error
}

func (m *minter) mint(_ context.Context, spec SessionSpec) (credential.Key, time.Time, error) {
	if m.err != nil {
		return credential.Key{}, time.Time{}, m.err
	}
	m.specs = append(m.specs, spec)
	seed := fmt.Sprintf("session-%d", len(m.specs))
	key := credential.Key{ID: awstest.FakeSessionKeyID(seed, 123456789012), Secret: secret.New(awstest.FakeSecret(seed)),
		SessionToken: secret.New(awstest.FakeSessionToken(seed))}
	eff, _ := spec.Effective()
	d := eff.Duration
	if len(eff.Roles) > 0 {
		d = eff.Roles[len(eff.Roles)-1].Duration
	}
	return key, m.now.Add(d).Truncate(time.Second), nil
}

type sessionsRun struct {
	s     Sessions
	m     *minter
	clock time.Time
	notes []string
}

func newSessions(t *testing.T, store *Store, files awsfile.Shared) *sessionsRun {
	t.Helper()
	r := &sessionsRun{m: &minter{}, clock: time.Now().UTC()}
	r.m.now = r.clock
	r.s = Sessions{Store: store, Shared: files.Load, Mint: r.m.mint, Now: func() time.Time { return r.clock },
		Note: func(n string) { r.notes = append(r.notes, n) }}
	return r
}

// process runs Process and decodes the credential_process line.
func (r *sessionsRun) process(t *testing.T, profile string, noSession bool) (map[string]any, error) {
	t.Helper()
	var out bytes.Buffer
	if err := r.s.Process(context.Background(), &out, profile, noSession); err != nil {
		if out.Len() != 0 {
			t.Errorf("Process failed (%v) and printed %q", err, &out)
		}
		return nil, err
	}
	if strings.Count(out.String(), "\n") != 1 || !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("want one line, got %q", &out)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	return got, nil
}

const importedProfile = "[dev]\ncredential_process = keywarden creds process dev\n"

func TestProcessServesASessionFromTheCache(t *testing.T) {
	store := fileStore(t)
	mustPut(t, store, "dev", testEntry("dev"))
	r := newSessions(t, store, sharedFiles(t, importedProfile, "[profile dev]\nduration_seconds = 7200\n"))
	first, err := r.process(t, "dev", false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Version": float64(1), "AccessKeyId": awstest.FakeSessionKeyID("session-1", 123456789012),
		"SecretAccessKey": awstest.FakeSecret("session-1"), "SessionToken": awstest.FakeSessionToken("session-1"),
		"Expiration": r.clock.Add(2 * time.Hour).Truncate(time.Second).Format(time.RFC3339)}
	if !cmp.Equal(first, want) {
		t.Errorf("Process:\n got %v\nwant %v", first, want)
	}
	if len(r.m.specs) != 1 || r.m.specs[0].Base.ID != testEntry("dev").AccessKeyID || r.m.specs[0].Duration != 2*time.Hour {
		t.Fatalf("minted %+v; want one session from the stored key, for duration_seconds", r.m.specs)
	}
	r.clock = r.clock.Add(2*time.Hour - SessionMargin - time.Minute)
	if again, _ := r.process(t, "dev", false); !cmp.Equal(again, first) || len(r.m.specs) != 1 {
		t.Errorf("within the margin the cached session is served, without minting: %v (%d minted)", again, len(r.m.specs))
	}
	r.clock = r.clock.Add(2 * time.Minute)
	r.m.now = r.clock
	if later, _ := r.process(t, "dev", false); len(r.m.specs) != 2 || later["AccessKeyId"] == first["AccessKeyId"] {
		t.Errorf("a session about to expire is replaced: %v (%d minted)", later, len(r.m.specs))
	}
	r.s.Duration = 30 * time.Minute
	if _, err := r.process(t, "dev", false); err != nil || len(r.m.specs) != 3 || r.m.specs[2].Duration != 30*time.Minute {
		t.Errorf("another duration is another session: %v, %d minted", err, len(r.m.specs))
	}
	if err := store.Forget("dev"); err != nil {
		t.Fatal(err)
	}
	if d, _ := reopen(t, store).load(); len(d.Sessions) != 0 || len(d.Entries) != 0 {
		t.Errorf("Forget left %d sessions, %d entries", len(d.Sessions), len(d.Entries))
	}
}

func TestProcessOfTheLongTermKey(t *testing.T) {
	store := fileStore(t)
	e := testEntry("dev")
	mustPut(t, store, "dev", e)
	r := newSessions(t, store, awsfile.Shared{})
	r.s.Shared = func() (*awsfile.File, *awsfile.File, error) { return nil, nil, errors.New("no files needed") }
	got, err := r.process(t, "dev", true)
	want := map[string]any{"Version": float64(1), "AccessKeyId": e.AccessKeyID, "SecretAccessKey": e.SecretAccessKey.Reveal()}
	if err != nil || !cmp.Equal(got, want) || len(r.m.specs) != 0 {
		t.Errorf("noSession: %v %v; want exactly %v, nothing minted", got, err, want)
	}
}

func TestProcessErrors(t *testing.T) {
	store := fileStore(t)
	mustPut(t, store, "dev", testEntry("dev"))
	r := newSessions(t, store, sharedFiles(t, importedProfile, "[profile dev]\nduration_seconds = 600\n"))
	_, err := r.process(t, "nope", false)
	if want := "profile nope is not in the store " + store.Path() + ": import it with 'keywarden creds import --profile nope'"; err == nil || err.Error() != want {
		t.Errorf("a profile not in the store: %v; want %q", err, want)
	}
	r.m.err = errors.New("sts said no")
	if _, err := r.process(t, "dev", false); !errors.Is(err, r.m.err) {
		t.Errorf("a failed mint: %v", err)
	}
	if !cmp.Equal(r.notes, []string{"profile dev: duration 10m0s is below the get-session-token minimum of 15m0s; using 15m0s"}) {
		t.Errorf("notes %q", r.notes)
	}
}

func TestForCommand(t *testing.T) {
	file := newFixtureKey("file")
	creds := importedProfile + "[plain]\n" + file.lines + "region = eu-west-2\n"
	config := "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = dev\nregion = ap-south-1\n"
	store := fileStore(t)
	mustPut(t, store, "dev", testEntry("dev"))
	r := newSessions(t, nil, sharedFiles(t, creds, config))
	opened := 0
	open := func() (*Store, error) { opened++; return store, nil }

	c, err := r.s.ForCommand(context.Background(), "plain", false, open)
	if err != nil || opened != 0 || c.Region != "eu-west-2" || c.Key.SessionToken.IsZero() || c.Expires.IsZero() {
		t.Fatalf("a key in the files: %+v %v (store opened %d times); want a session, the profile's region, no store", c, err, opened)
	}
	if _, err := r.s.ForCommand(context.Background(), "plain", false, open); err != nil || len(r.m.specs) != 2 {
		t.Errorf("sessions of a key the files hold are not cached: %v, %d minted", err, len(r.m.specs))
	}

	c, err = r.s.ForCommand(context.Background(), "admin", false, open)
	spec := r.m.specs[len(r.m.specs)-1]
	if err != nil || opened != 1 || c.Region != "ap-south-1" || spec.Base.ID != testEntry("dev").AccessKeyID || len(spec.Roles) != 1 {
		t.Fatalf("a role over an imported key: %+v %v; minted %+v", c, err, spec)
	}
	again, err := r.s.ForCommand(context.Background(), "admin", false, open)
	if err != nil || again.Key.ID != c.Key.ID || len(r.m.specs) != 3 {
		t.Errorf("sessions of a store-held key are cached: %v, %d minted", err, len(r.m.specs))
	}

	c, err = r.s.ForCommand(context.Background(), "admin", true, open)
	if err != nil || c.Key.ID != testEntry("dev").AccessKeyID || !c.Key.SessionToken.IsZero() || !c.Expires.IsZero() {
		t.Errorf("noSession: %+v %v; want the root's long-term key", c, err)
	}

	mustPut(t, store, "dev", testEntry("other"))
	if err := store.Remove("dev"); err != nil {
		t.Fatal(err)
	}
	_, err = r.s.ForCommand(context.Background(), "admin", false, open)
	if want := "profile dev uses a credential_process, and dev is not in the store " + store.Path(); err == nil || err.Error() != want {
		t.Errorf("a root not in the store: %v; want %q", err, want)
	}
	if _, err := r.s.ForCommand(context.Background(), "nope", false, open); !errors.Is(err, awsfile.ErrProfileNotFound) {
		t.Errorf("a profile not in the files: %v", err)
	}
}
