package scrub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanSymlinks: a dotfile linked into a dotfiles repository is read; a
// tree is walked without following links, so loops end and nothing outside
// is read through them.
func TestScanSymlinks(t *testing.T) {
	home, outside := t.TempDir(), t.TempDir()
	linked, out := newKey("linked"), newKey("outside")
	target := write(t, home, "dotfiles/bashrc", fmt.Sprintf("export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", linked.id, linked.sec))
	symlink(t, target, filepath.Join(home, ".bashrc"))
	// .bash_profile is the same file again: scanned once, under the first name.
	symlink(t, target, filepath.Join(home, ".bash_profile"))
	write(t, outside, "settings.json", fmt.Sprintf("%s %s\n", out.id, out.sec))
	symlink(t, outside, filepath.Join(home, ".config", "out"))
	symlink(t, filepath.Join(outside, "settings.json"), filepath.Join(home, ".config", "app", "settings.json"))
	// Loops: a directory linking to its parent, to itself, to the tree root.
	symlink(t, "..", filepath.Join(home, ".config", "app", "up"))
	symlink(t, "self", filepath.Join(home, ".config", "self"))
	symlink(t, filepath.Join(home, ".config"), filepath.Join(home, ".config", "app", "root"))
	symlink(t, filepath.Join(home, ".aws"), filepath.Join(home, ".aws", "again"))

	got, _ := scanHome(t, home)
	want := []Found{pairFound(filepath.Join(home, ".bashrc"), 1, linked)}
	if diff := cmp.Diff(want, got, foundOpts); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
}

func TestScanWarnsAboutWhatItCannotRead(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, home string)
		want  []string // parts of one warning
	}{
		{
			name:  "dotfile linking to itself",
			setup: func(t *testing.T, home string) { symlink(t, ".zshrc", filepath.Join(home, ".zshrc")) },
			want:  []string{".zshrc", "too many levels of symbolic links"},
		},
		{
			name: "unreadable file",
			setup: func(t *testing.T, home string) {
				denied(t, write(t, home, ".zshrc", "export AWS_REGION=eu-west-1\n"))
			},
			want: []string{".zshrc", "permission denied"},
		},
		{
			name: "unreadable directory in a walked tree",
			setup: func(t *testing.T, home string) {
				write(t, home, ".config/locked/settings.json", "{}")
				denied(t, filepath.Join(home, ".config", "locked"))
			},
			want: []string{"locked", "permission denied"},
		},
		{
			name: "tree linking to the root directory",
			setup: func(t *testing.T, home string) {
				if runtime.GOOS == "windows" {
					t.Skip("unix paths")
				}
				symlink(t, "/", filepath.Join(home, ".config"))
			},
			want: []string{".config", "system directory"},
		},
		{
			name: "dotfile linking into /proc",
			setup: func(t *testing.T, home string) {
				if runtime.GOOS != "linux" {
					t.Skip("needs /proc")
				}
				symlink(t, "/proc/self/status", filepath.Join(home, ".bashrc"))
			},
			want: []string{".bashrc", "system file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			k := newKey("still-found")
			write(t, home, ".aws/credentials", fmt.Sprintf("[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", k.id, k.sec))
			tt.setup(t, home)
			got, w := scanHome(t, home)
			if len(got) != 1 || got[0].AccessKeyID != k.id {
				t.Errorf("found %v, want the key in ~/.aws/credentials", got)
			}
			if !w.about(tt.want...) {
				t.Errorf("warnings = %q, want one with %q", w.msgs, tt.want)
			}
		})
	}
}

// denied makes name unreadable, or skips where permissions are not enforced (root).
func denied(t *testing.T, name string) {
	t.Helper()
	if err := os.Chmod(name, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(name, 0o755) })
	if f, err := os.Open(name); err == nil {
		f.Close()
		t.Skip("permissions are not enforced for this user (root?)")
	}
}

func TestScanBounds(t *testing.T) {
	home := t.TempDir()
	first, big, deep, late := newKey("first"), newKey("big"), newKey("deep"), newKey("late")
	pair := func(k key) string {
		return fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", k.id, k.sec)
	}
	write(t, home, ".aws/credentials", fmt.Sprintf("[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", first.id, first.sec))
	write(t, home, ".config/big/settings.conf", pair(big)+strings.Repeat("# padding\n", 200))
	write(t, home, ".config/a/b/c/d/settings.conf", pair(deep))
	write(t, home, ".config/z/settings.conf", pair(late))

	lim := limits{maxDepth: 3, maxFiles: 3, maxBytes: 1 << 20, maxFileSize: 1024, maxNamedSize: 1 << 20}
	w := &warnings{}
	got, err := scanWith(context.Background(), home, nil, w.add, lim)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range got {
		ids = append(ids, f.AccessKeyID)
	}
	// The big file is over maxFileSize; the deep one below maxDepth.
	if diff := cmp.Diff([]string{first.id, late.id}, ids); diff != "" {
		t.Errorf("found key ids (-want +got):\n%s", diff)
	}
	if !w.about("skip 1 files under " + filepath.Join(home, ".config") + " larger than 1024 bytes") {
		t.Errorf("warnings = %q, want one about the big file", w.msgs)
	}

	lim.maxFiles = 1
	w = &warnings{}
	got, err = scanWith(context.Background(), home, nil, w.add, lim)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].AccessKeyID != first.id {
		t.Errorf("found %v, want only the key of ~/.aws, scanned before the budget ran out", got)
	}
	if !w.about("budget", "later places are not scanned") {
		t.Errorf("warnings = %q, want one about the budget", w.msgs)
	}
}

func TestScanWarnsAboutOversizedNamedFile(t *testing.T) {
	home := t.TempDir()
	k := newKey("huge")
	write(t, home, ".bash_history", fmt.Sprintf("export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.id, k.sec)+strings.Repeat("ls\n", 400))
	lim := defaultLimits
	lim.maxNamedSize = 1024
	w := &warnings{}
	got, err := scanWith(context.Background(), home, nil, w.add, lim)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("found %v in a file over the limit", got)
	}
	if !w.about(".bash_history", "over the 1024-byte limit") {
		t.Errorf("warnings = %q, want one about the size", w.msgs)
	}
	for _, m := range w.msgs {
		if strings.Contains(m, k.sec) {
			t.Errorf("warning shows the secret: %s", m)
		}
	}
}
