package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/iamfake"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/vault"
)

// The fault suite of rotate: each kind of rotation is run once to learn its
// steps (every IAM call, before and after it takes effect, every journal
// commit, every fsync and rename of a file, every backup written or
// removed), then once per step with that step failing, and once per step
// with the process killed there; after each, the user's next move (the same
// command again, or 'rotate undo') is run. The invariants are checked after
// every run, faulted or not (checkInvariants).

// rig is one kind of rotation on a fresh fixture: the IAM account in
// memory, the request, and the places that hold the key.
type rig struct {
	t      *testing.T
	f      *fixture
	acct   *iamfake.Account
	req    rotate.Request
	store  *vault.Store // the key's home when it is in keywarden's store
	files  []watched    // files that hold the key
	others []string     // files the fixture made that hold nothing of it
}

// watched is a file holding the key: its mode and its bytes as a template
// in which only the key id and secret may change.
type watched struct {
	path string
	mode os.FileMode
	text func(id, sec string) string
}

var rigs = []struct {
	name string
	make func(t *testing.T) *rig
}{
	{"profile in a credentials file", profileRig},
	{"profiles in the credentials and the config file", twoFilesRig},
	{"service user to a dotenv file", envfileRig},
	{"profile in the store", vaultRig},
}

func profileRig(t *testing.T) *rig {
	f, acct := newFakeFixture(t)
	return &rig{t: t, f: f, acct: acct, req: f.request(0),
		files: []watched{{path: f.creds, mode: 0o640, text: f.credentialsFile}}}
}

// twoFilesRig: the key is also in the config file (profile dev), which is
// not backed up (the credentials file is) but written the same way.
func twoFilesRig(t *testing.T) *rig {
	g := profileRig(t)
	config := filepath.Join(filepath.Dir(g.f.creds), "config")
	text := func(id, sec string) string {
		return "[profile dev]\nregion = eu-west-1\naws_access_key_id=" + id + "\naws_secret_access_key=" + sec + "\n[default]\noutput = json\n"
	}
	if err := os.WriteFile(config, []byte(text(g.f.user.KeyID, g.f.user.Secret.Reveal())), 0o600); err != nil {
		t.Fatal(err)
	}
	g.req.Files.Config = config
	g.req.Targets = append(g.req.Targets, rotate.SharedFileSpec(awsfile.Config, []string{"dev"}))
	g.files = append(g.files, watched{path: config, mode: 0o600, text: text})
	return g
}

func envfileRig(t *testing.T) *rig {
	f, acct := newFakeFixture(t)
	env := filepath.Join(awstest.MemDir(t), "app.env")
	text := func(id, sec string) string {
		return "# app\r\nexport AWS_ACCESS_KEY_ID=" + id + "\r\nREGION=eu-west-1\r\nAWS_SECRET_ACCESS_KEY='" + sec + "'\r\n"
	}
	if err := os.WriteFile(env, []byte(text(f.user.KeyID, f.user.Secret.Reveal())), 0o640); err != nil {
		t.Fatal(err)
	}
	req := f.request(0)
	req.OldSecret, req.Files, req.Targets = secret.Secret{}, rotate.Files{}, []string{"envfile:" + env}
	// The credentials file is not a target: the caller signs.
	return &rig{t: t, f: f, acct: acct, req: req, others: []string{f.creds},
		files: []watched{{path: env, mode: 0o640, text: text}}}
}

func vaultRig(t *testing.T) *rig {
	f, acct := newFakeFixture(t)
	t.Setenv(vault.EnvPassphrase, "correct horse battery staple")
	t.Setenv(vault.EnvPath, "")
	store, err := vault.Open(vault.Options{Path: filepath.Join(awstest.MemDir(t), "vault.age"), Backend: vault.BackendFile, ScryptLogN: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put("default", vault.Entry{AccessKeyID: f.user.KeyID, SecretAccessKey: f.user.Secret}); err != nil {
		t.Fatal(err)
	}
	req := f.request(0)
	req.Files, req.Targets = rotate.Files{}, []string{rotate.VaultSpec([]string{"default"})}
	return &rig{t: t, f: f, acct: acct, req: req, store: store, others: []string{f.creds}}
}

// rotator is the fixture's rotator, with the store as a target when the
// rig has one.
func (g *rig) rotator() *rotate.Rotator {
	rt := g.f.rotator(nil)
	if g.store != nil {
		rt.Targets = rotate.Targets(target.Env{}, func() (*vault.Store, error) { return g.store, nil })
	}
	return rt
}

// faulted runs the rotation with s answering every step.
func (g *rig) faulted(s *fault.Script) (killed bool, err error) {
	fault.Set(g.t, s.Step)
	g.acct.Fail, g.acct.FailAfter = s.Step, s.After
	defer func() { g.acct.Fail, g.acct.FailAfter = nil, nil }()
	rt := g.rotator()
	rt.VerifyTimeout = 0
	return fault.Run(func() error { _, err := rt.Rotate(context.Background(), g.req); return err })
}

// TestRotateUnderFaultsAtEveryStep is the table: every kind of rotation ×
// every step × {failed, killed then run again, killed then undone}.
func TestRotateUnderFaultsAtEveryStep(t *testing.T) {
	total := 0
	for _, kind := range rigs {
		t.Run(kind.name, func(t *testing.T) {
			var steps []string
			{
				g := kind.make(t)
				s := &fault.Script{}
				if _, err := g.faulted(s); err != nil {
					t.Fatalf("the rotation without a fault: %v\n%s", err, g.f.out.String())
				}
				steps = s.Steps()
				g.checkInvariants("the rotation without a fault", true)
			}
			t.Logf("%d steps: %s", len(steps), strings.Join(steps, ", "))
			total += len(steps)
			for n := 1; n <= len(steps); n++ {
				for _, move := range []string{"fail, run again", "kill, run again", "kill, undo"} {
					what := fmt.Sprintf("%s at step %d (%s)", move, n, steps[n-1])
					g := kind.make(t)
					killed, err := g.faulted(&fault.Script{N: n, Kill: move != "fail, run again"})
					if !killed && err == nil {
						t.Fatalf("%s: the run went on as if nothing had failed\n%s", what, g.f.out.String())
					}
					g.checkInvariants(what, false)
					if move == "kill, undo" && g.undo(what) {
						g.checkInvariants(what+", undone", false)
						if g.req.OldSecret.IsZero() {
							continue // a service user's undo leaves both keys active, for the user to choose
						}
					}
					rt := g.rotator()
					rt.Confirm = func(string) bool { return true } // after an undo: delete the new key it deactivated
					if _, err := g.f.rotate(rt, g.req); err != nil {
						t.Fatalf("%s: the next run failed: %v\n%s", what, err, g.f.out.String())
					}
					g.checkInvariants(what+", run again", true)
				}
			}
		})
	}
	t.Logf("%d steps over %d kinds of rotation, 3 moves each", total, len(rigs))
}

// undo undoes the open rotation the faulted run left, if it left one that
// can be undone, as 'keywarden rotate undo' would.
func (g *rig) undo(what string) bool {
	open := g.openRotations()
	if len(open) == 0 || open[0].Step == rotate.StepCreating {
		return false
	}
	step := open[0].Step
	err := g.rotator().Undo(context.Background(), open[0])
	if errors.Is(err, rotate.ErrStopped) && (step == rotate.StepCreated || step == rotate.StepDeactivated) {
		return false // finish first, or it is already done: said, and the next run does
	}
	if err != nil {
		g.t.Fatalf("%s: undo: %v\n%s", what, err, g.f.out.String())
	}
	return true
}

func (g *rig) openRotations() []*rotate.Rotation {
	g.t.Helper()
	recs, err := g.f.db.List(context.Background(), rotate.Kind, state.Filter{OpenOnly: true})
	if err != nil {
		g.t.Fatal(err)
	}
	var out []*rotate.Rotation
	for _, rec := range recs {
		r, err := rotate.Load(rec)
		if err != nil {
			g.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Invariants checked after every run (InvariantsPerRun counts them):
//  1. nothing lost: the user has an active key, and every active key that
//     anything names has its working secret held locally (a file, the
//     store, or the journal), but a service user's old key, whose secret
//     only its targets held;
//  2. no orphan: every key in IAM is known to a file, the store or the
//     journal (a rotation left at "creating" accounts for the key its
//     killed run may have created: its next run deletes it);
//  3. no stray secret: near every file and in the state directory there is
//     nothing but the files themselves, lock files, the database, and the
//     backups and temporary files an open rotation records;
//  4. every file is its fixture byte for byte but for the key id and secret;
//  5. every file keeps its mode.
//
// With done, the run finished: one active key, held everywhere, no
// rotation open.
const InvariantsPerRun = 5

func (g *rig) checkInvariants(what string, done bool) {
	g.t.Helper()
	ctx := context.Background()
	held := map[string]secret.Secret{} // key id -> a secret kept locally
	for _, w := range g.files {
		id, sec := g.fileKey(what, w)
		held[id] = sec
	}
	if g.store != nil {
		e, err := g.store.Get("default")
		if err != nil {
			g.t.Fatalf("%s: the store: %v", what, err)
		}
		held[e.AccessKeyID] = e.SecretAccessKey
	}
	known := map[string]bool{}
	for id := range held {
		known[id] = true
	}
	creating := false
	all, err := g.f.db.List(ctx, rotate.Kind, state.Filter{})
	if err != nil {
		g.t.Fatal(err)
	}
	for _, rec := range all {
		r, err := rotate.Load(rec)
		if err != nil {
			g.t.Fatal(err)
		}
		known[r.OldKeyID], known[r.NewKeyID] = true, true
		creating = creating || r.Step == rotate.StepCreating
		if rotate.Closed(r.Step) {
			continue
		}
		if s, _ := g.f.db.Secret(ctx, r.ID, rotate.SecretNew); !s.IsZero() {
			held[r.NewKeyID] = s
		}
		if s, _ := g.f.db.Secret(ctx, r.ID, rotate.SecretOld); !s.IsZero() {
			held[r.OldKeyID] = s
		}
	}
	keys := g.f.keys()
	active := 0
	for id, on := range keys {
		if !known[id] {
			if !creating {
				g.t.Fatalf("%s: invariant 2: key %s is in IAM but no file, store or journal knows it (keys %v)", what, id, keys)
			}
			continue // the orphan of a killed create, whose secret no one ever had
		}
		if !on {
			continue
		}
		active++
		if id == g.req.OldKeyID && g.req.OldSecret.IsZero() {
			continue // a service user's key, whose secret only its targets held: the rotation replaces it there
		}
		sec, ok := held[id]
		if !ok || g.acct.Verify(ctx, credential.Key{ID: id, Secret: sec}).Status != credential.Active {
			g.t.Fatalf("%s: invariant 1: active key %s has no working secret kept locally (keys %v)", what, id, keys)
		}
	}
	if active == 0 {
		g.t.Fatalf("%s: invariant 1: the user has no active key left (keys %v)", what, keys)
	}
	g.checkNoStrayFiles(what)
	if done {
		g.checkDone(what, keys)
	}
}

// fileKey checks invariants 4 and 5 for w and returns the key it holds.
func (g *rig) fileKey(what string, w watched) (string, secret.Secret) {
	g.t.Helper()
	data, err := os.ReadFile(w.path)
	if err != nil {
		g.t.Fatalf("%s: %v", what, err)
	}
	const idMark, secMark = "\x00id\x00", "\x00secret\x00"
	pattern := regexp.QuoteMeta(w.text(idMark, secMark))
	pattern = strings.ReplaceAll(pattern, idMark, `(?P<id>A[SK]IA[A-Z0-9]{16})`)
	pattern = strings.ReplaceAll(pattern, secMark, `(?P<secret>[A-Za-z0-9/+]{40})`)
	m := regexp.MustCompile("^" + pattern + "$").FindStringSubmatch(string(data))
	if m == nil {
		g.t.Fatalf("%s: invariant 4: %s changed outside the key id and secret:\n%q", what, w.path, data)
	}
	id, sec := m[1], m[2]
	if string(data) != w.text(id, sec) {
		g.t.Fatalf("%s: invariant 4: %s holds two different keys:\n%q", what, w.path, data)
	}
	if st, err := os.Stat(w.path); err != nil || st.Mode().Perm() != w.mode {
		g.t.Fatalf("%s: invariant 5: %s mode %v, want %v kept (%v)", what, w.path, st.Mode().Perm(), w.mode, err)
	}
	return id, secret.New(sec)
}

// checkNoStrayFiles is invariant 3.
func (g *rig) checkNoStrayFiles(what string) {
	g.t.Helper()
	allowed := map[string]bool{}
	dirs := map[string]bool{filepath.Dir(g.f.db.Path()): true}
	for _, w := range g.files {
		allowed[w.path], dirs[filepath.Dir(w.path)] = true, true
	}
	for _, p := range g.others {
		allowed[p], dirs[filepath.Dir(p)] = true, true
	}
	if g.store != nil { // encrypted: the store's own files, and its next write removes a leftover
		for _, p := range []string{g.store.Path(), g.store.Path() + ".bak"} {
			allowed[p], allowed[atomicfile.TempPath(p)] = true, true
		}
		dirs[filepath.Dir(g.store.Path())] = true
	}
	for _, r := range g.openRotations() {
		for _, p := range rotate.Recorded(r) {
			allowed[p] = true
		}
	}
	for dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := d.Name()
			if allowed[p] || strings.HasSuffix(name, ".lock") || strings.HasPrefix(name, "state.db") {
				return nil
			}
			return fmt.Errorf("%s is left and no open rotation records it", p)
		})
		if err != nil {
			g.t.Fatalf("%s: invariant 3: %v", what, err)
		}
	}
}

// checkDone: one active key, every file and the store on it, nothing open.
func (g *rig) checkDone(what string, keys map[string]bool) {
	g.t.Helper()
	if open := g.openRotations(); len(open) != 0 {
		g.t.Fatalf("%s: rotation %s left open at %s", what, open[0].ID, open[0].Step)
	}
	var on []string
	for id, active := range keys {
		if active {
			on = append(on, id)
		}
	}
	if len(on) != 1 {
		g.t.Fatalf("%s: want one active key at the end, got %v", what, keys)
	}
	for _, w := range g.files {
		if id, _ := g.fileKey(what, w); id != on[0] {
			g.t.Fatalf("%s: %s holds %s, not the active key %s", what, w.path, id, on[0])
		}
	}
	if g.store != nil {
		if e, _ := g.store.Get("default"); e.AccessKeyID != on[0] {
			g.t.Fatalf("%s: the store holds %s, not the active key %s", what, e.AccessKeyID, on[0])
		}
	}
}
