package awsfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSharedPathsFollowTheSDKsVariables(t *testing.T) {
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/x/creds")
	t.Setenv("AWS_CONFIG_FILE", "/x/config")
	s, err := SharedPaths()
	if err != nil || s != (Shared{Credentials: "/x/creds", Config: "/x/config"}) {
		t.Fatalf("SharedPaths() = %+v, %v", s, err)
	}
	if s.Path(Credentials) != "/x/creds" || s.Path(Config) != "/x/config" {
		t.Errorf("Path: %q %q", s.Path(Credentials), s.Path(Config))
	}
}

func TestSharedLoadAndEdit(t *testing.T) {
	dir := t.TempDir()
	s := Shared{Credentials: filepath.Join(dir, "credentials"), Config: filepath.Join(dir, "config")}
	if err := os.WriteFile(s.Credentials, []byte("# mine\n[p]\nk = old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Credentials, 0o640); err != nil {
		t.Fatal(err)
	}
	creds, config, err := s.Load()
	if err != nil || !creds.HasProfile("p") || len(config.Profiles()) != 0 {
		t.Fatalf("Load: %v; want the credentials file and an empty config", err)
	}
	err = s.Edit(context.Background(), Credentials, func(f *File) error { return f.Set("p", "k", "new") })
	if got, _ := os.ReadFile(s.Credentials); err != nil || string(got) != "# mine\n[p]\nk = new\n" {
		t.Errorf("Edit: %v\n%s", err, got)
	}
	if st, _ := os.Stat(s.Credentials); st.Mode().Perm() != 0o640 {
		t.Errorf("Edit changed the mode to %v", st.Mode().Perm())
	}
	failed := errors.New("no")
	err = s.Edit(context.Background(), Config, func(f *File) error { _ = f.Set("q", "k", "v"); return failed })
	if _, statErr := os.Stat(s.Config); !errors.Is(err, failed) || statErr == nil {
		t.Errorf("a failed edit must write nothing: %v, %v", err, statErr)
	}
	if err := s.Edit(context.Background(), Config, func(f *File) error { return f.Set("q", "k", "v") }); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(s.Config); st.Mode().Perm() != 0o600 {
		t.Errorf("a new file: mode %v, want 0600", st.Mode().Perm())
	}
}
