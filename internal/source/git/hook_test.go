package git

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInstallHookWritesAnExecutableHook(t *testing.T) {
	for hook, cmd := range map[string]string{
		"pre-commit": "keywarden scan --staged",
		"commit-msg": `keywarden scan --commit-msg "$1"`,
	} {
		t.Run(hook, func(t *testing.T) {
			r := awstest.NewGitRepo(t)
			path, err := InstallHook(r.Dir, hook, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(r.Dir, ".git", "hooks", hook); path != want {
				t.Errorf("path = %s, want %s", path, want)
			}
			if st, err := os.Stat(path); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("hook is not executable: %v %v", st, err)
			}
			if body := readFile(t, path); !strings.Contains(body, cmd) {
				t.Errorf("hook does not run %q:\n%s", cmd, body)
			}
			again, err := InstallHook(r.Dir, hook, false)
			if err != nil || again != path {
				t.Errorf("second install = %s, %v; want %s, nil (idempotent)", again, err, path)
			}
		})
	}
}

func TestInstallHookKeepsForeignHooksUnlessForced(t *testing.T) {
	r := awstest.NewGitRepo(t)
	path := filepath.Join(r.Dir, ".git", "hooks", "pre-commit")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	const foreign = "#!/bin/sh\necho mine\n"
	if err := os.WriteFile(path, []byte(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallHook(r.Dir, "pre-commit", false); !errors.Is(err, ErrForeignHook) {
		t.Fatalf("install over a foreign hook = %v, want ErrForeignHook", err)
	}
	if got := readFile(t, path); got != foreign {
		t.Fatalf("foreign hook changed without force:\n%s", got)
	}
	if _, err := InstallHook(r.Dir, "pre-commit", true); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path+".keywarden-backup"); got != foreign {
		t.Errorf("backup = %q, want the foreign hook", got)
	}
	if !strings.Contains(readFile(t, path), hookMarker) {
		t.Errorf("forced install did not write keywarden's hook")
	}
}

func TestInstallHookHonoursCoreHooksPath(t *testing.T) {
	r := awstest.NewGitRepo(t)
	r.Git("config", "core.hooksPath", "tools/hooks")
	path, err := InstallHook(r.Dir, "pre-commit", false)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(r.Dir, "tools", "hooks", "pre-commit"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}

func TestInstallHookRejectsUnknownHooks(t *testing.T) {
	r := awstest.NewGitRepo(t)
	if _, err := InstallHook(r.Dir, "post-merge", false); err == nil {
		t.Error("InstallHook(post-merge) = nil error")
	}
}
