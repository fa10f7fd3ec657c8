package git

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// TestScanRepoPackThatLiesAboutSizes: a packed blob whose header declares
// another size than its data holds — less (which would hide the rest of the
// blob), more, or more than the bound on what is held (so git cat-file is
// asked) — is named as unreadable in one warning, never read as a shorter
// blob in silence, and the rest of the repository is scanned.
func TestScanRepoPackThatLiesAboutSizes(t *testing.T) {
	defer func(old uint64) { maxHeld = old }(maxHeld)
	maxHeld = 64 << 10
	tests := map[string]uint64{
		"declares less than it holds":         16,
		"declares more than it holds":         4000,
		"declares more than the bound allows": 200 << 10,
	}
	for name, claim := range tests {
		t.Run(name, func(t *testing.T) {
			r := awstest.NewGitRepo(t)
			hidden, kept := newKey("liar-hidden"), newKey("liar-kept")
			// 3000 bytes: a three-byte size header, room for claims up to 256 KiB.
			victim := strings.Repeat("padding line, no key in it\n", 100) + hidden.file
			victim += strings.Repeat("#", 3000-len(victim))
			r.CommitFile("victim.txt", victim, "victim")
			r.CommitFile("creds", kept.file, "add creds")
			id := r.Git("rev-parse", "HEAD:victim.txt")
			r.Git("gc", "-q")
			setPackedSize(t, r, id, claim)
			findings, warns := scanRepo(t, r.Dir, Options{})
			var ids []string
			for _, f := range findings {
				ids = append(ids, f.KeyID)
			}
			if len(ids) != 1 || ids[0] != kept.id {
				t.Errorf("keys found %v; want only %s (the lying blob unread)", ids, kept.id)
			}
			if len(warns) != 1 || !strings.Contains(warns[0].Error(), id[:12]) || !strings.Contains(warns[0].Error(), "unreadable") {
				t.Errorf("warnings = %v, want one naming %s as unreadable", warns, id[:12])
			}
		})
	}
}

// setPackedSize rewrites the size in the header of packed object id, which
// must take three bytes, to claim (below 1<<18).
func setPackedSize(t *testing.T, r *awstest.GitRepo, id string, claim uint64) {
	t.Helper()
	patchPackedObject(t, r, id, func(o packObj) ([]byte, int64) {
		if o.hdr != 3 || o.typ != objBlob {
			t.Fatalf("object %s: header of %d bytes, type %d; want a 3-byte blob header", id, o.hdr, o.typ)
		}
		return []byte{0x80 | objBlob<<4 | byte(claim&15), 0x80 | byte(claim>>4&0x7f), byte(claim >> 11 & 0x7f)}, int64(o.off)
	})
}

// TestCatFileThatDiesCostsOnlyItsObject: a git cat-file that dies inside an
// answer costs the object it died on; a new one reads the rest. One that
// dies on every object, answering none, stops after maxCatRestarts in a row.
func TestCatFileThatDiesCostsOnlyItsObject(t *testing.T) {
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("%040x", i+1))
	}
	for name, tc := range map[string]struct {
		script  string
		damaged int
		err     string
	}{
		"answers one, dies on the next": {"read id || exit 0; printf '%s blob 3\\nabc\\n' \"$id\"; read id; printf '%s blob 100\\nab' \"$id\"; exit 1", 20, ""},
		"dies on every object":          {"read id || exit 0; printf '%s blob 100\\nab' \"$id\"; exit 1", 0, "git cat-file died on 17 objects in a row"},
	} {
		t.Run(name, func(t *testing.T) {
			bin := t.TempDir()
			if err := os.WriteFile(filepath.Join(bin, "git"), []byte("#!/bin/sh\n"+tc.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			env := scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}, Stats: &scan.Stats{}}
			hits, err := scanBlobs(t.Context(), &gitCmd{dir: t.TempDir()}, ids, env)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("err = %v; want one saying %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("scanBlobs: %v", err)
			case tc.err == "" && len(hits.damaged) != tc.damaged:
				t.Errorf("%d objects damaged %v; want %d", len(hits.damaged), hits.damaged, tc.damaged)
			}
		})
	}
}
