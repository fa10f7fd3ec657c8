package rotate_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/state"
)

// stepOf is the number (from 1) of the first step named name in a run of
// g's rotation without a fault.
func stepOf(t *testing.T, make func(*testing.T) *rig, name string) int {
	t.Helper()
	s := &fault.Script{}
	if _, err := make(t).faulted(s); err != nil {
		t.Fatal(err)
	}
	i := slices.Index(s.Steps(), name)
	if i < 0 {
		t.Fatalf("no step %q in %v", name, s.Steps())
	}
	return i + 1
}

// A kill between the journal write and the rename of the credentials file
// leaves the temporary file (every secret of the file in it) and the
// backup: the journal records both before they are written, and the next
// run removes both. The backup is in a 0700 directory although ~/.aws is
// 0755.
func TestKillBeforeTheRenameLeavesNothingKnownToNoOne(t *testing.T) {
	n := stepOf(t, profileRig, "rename credentials")
	g := profileRig(t)
	if err := os.Chmod(filepath.Dir(g.f.creds), 0o755); err != nil {
		t.Fatal(err)
	}
	if killed, _ := g.faulted(&fault.Script{N: n, Kill: true}); !killed {
		t.Fatal("not killed")
	}
	open := g.openRotations()
	if len(open) != 1 {
		t.Fatalf("want the killed rotation open, got %d", len(open))
	}
	recorded := rotate.Recorded(open[0])
	var left []string
	for _, dir := range []string{filepath.Dir(g.f.creds), filepath.Dir(g.f.db.Path())} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && p != g.f.creds && filepath.Ext(p) != ".lock" && !slices.Contains([]string{"state.db", "state.db-wal", "state.db-shm"}, d.Name()) {
				left = append(left, p)
			}
			return nil
		})
	}
	if len(left) != 2 {
		t.Errorf("want the temporary file and the backup left by the kill, got %v", left)
	}
	for _, p := range left {
		if !slices.Contains(recorded, p) {
			t.Errorf("%s is left and the journal does not record it (it records %v)", p, recorded)
		}
	}
	if st, err := os.Stat(open[0].Backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup %s: %v, want mode 0600", open[0].Backup, err)
	}
	if st, err := os.Stat(filepath.Dir(open[0].Backup)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the backups' directory: %v, want mode 0700", err)
	}
	if _, err := g.f.rotate(g.rotator(), g.req); err != nil {
		t.Fatal(err)
	}
	g.checkInvariants("resumed", true)
}

// A rotation rolled back (here: the credentials file could not be synced)
// removes the backup it took.
func TestRolledBackRotationRemovesItsBackup(t *testing.T) {
	n := stepOf(t, profileRig, "fsync credentials")
	g := profileRig(t)
	_, err := g.faulted(&fault.Script{N: n})
	r := g.lastRotation()
	if err == nil || r.Step != rotate.StepRolledBack {
		t.Fatalf("want a rollback, got %v at %s", err, r.Step)
	}
	if r.Backup == "" {
		t.Fatal("no backup taken")
	}
	if _, err := os.Stat(r.Backup); !os.IsNotExist(err) {
		t.Errorf("backup %s of a rolled-back rotation is left: %v", r.Backup, err)
	}
	g.checkInvariants("rolled back", false)
}

func (g *rig) lastRotation() *rotate.Rotation {
	g.t.Helper()
	recs, err := g.f.db.List(context.Background(), rotate.Kind, state.Filter{})
	if err != nil || len(recs) == 0 {
		g.t.Fatalf("no rotation journaled: %v", err)
	}
	r, err := rotate.Load(recs[len(recs)-1])
	if err != nil {
		g.t.Fatal(err)
	}
	return r
}
