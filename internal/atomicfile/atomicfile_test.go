package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keywarden/keywarden/internal/fault"
)

func TestWriteReplacesWithMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(got) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v; want \"new\" 0600", got, st.Mode().Perm())
	}
}

func TestWriteFailureKeepsOldFileAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o600, func(w io.Writer) error { io.WriteString(w, "half"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(dir)
	if string(got) != "old" || len(entries) != 1 {
		t.Errorf("after failure: content %q, %d entries; want \"old\" and no temp file", got, len(entries))
	}
}

func TestWriteToDeviceWritesInPlace(t *testing.T) {
	before, err := os.Stat(os.DevNull)
	if err != nil {
		t.Skip("no", os.DevNull)
	}
	if err := Write(os.DevNull, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(os.DevNull)
	if err != nil || after.Mode() != before.Mode() || after.Mode().IsRegular() {
		t.Fatalf("%s changed from %v to %v: the device was replaced", os.DevNull, before.Mode(), after.Mode())
	}
}

func TestWriteFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(target)
	st, _ := os.Lstat(link)
	if string(got) != "new" || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("target %q, link mode %v; want the target rewritten and the link kept", got, st.Mode())
	}
}

// A write killed before its rename leaves its temporary file; the next
// write, or RemoveTemp (what a resumed run does with what its journal
// recorded), removes it. Nothing else is ever left beside the target.
func TestKilledWriteLeavesOnlyARemovableTemp(t *testing.T) {
	for _, step := range []int{1, 2} { // fsync, rename
		dir := t.TempDir()
		p := filepath.Join(dir, "credentials")
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &fault.Script{N: step, Kill: true}
		fault.Set(t, s.Step)
		killed, _ := fault.Run(func() error {
			return Write(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "secret"); return err })
		})
		fault.Set(t, nil)
		if !killed {
			t.Fatalf("step %d: not killed", step)
		}
		if _, err := os.Stat(TempPath(p)); err != nil {
			t.Fatalf("step %d: the killed write's temporary file is not at TempPath: %v", step, err)
		}
		if err := Write(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
			t.Fatalf("step %d: the next write: %v", step, err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"credentials"}) {
			t.Errorf("step %d: after the next write the directory holds %v", step, names)
		}
		fault.Set(t, (&fault.Script{N: step, Kill: true}).Step)
		fault.Run(func() error {
			return Write(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "secret"); return err })
		})
		fault.Set(t, nil)
		if err := RemoveTemp(TempPath(p)); err != nil {
			t.Fatal(err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"credentials"}) {
			t.Errorf("step %d: after RemoveTemp the directory holds %v", step, names)
		}
	}
}

// A temporary file a live write holds is not removed under it.
func TestRemoveTempSparesALiveWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "credentials")
	err := Write(p, 0o600, func(w io.Writer) error {
		if err := RemoveTemp(TempPath(p)); !errors.Is(err, ErrBusy) {
			t.Errorf("RemoveTemp during the write: %v, want ErrBusy", err)
		}
		_, err := io.WriteString(w, "new")
		return err
	})
	if got, _ := os.ReadFile(p); err != nil || string(got) != "new" {
		t.Fatalf("the write: %v, %q", err, got)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
