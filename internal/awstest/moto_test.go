package awstest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
)

func TestMain(m *testing.M) { Main(m) }

func listUsers(t *testing.T) []string {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := iam.NewFromConfig(cfg).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	var names []string
	for _, u := range out.Users {
		names = append(names, *u.UserName)
	}
	return names
}

func TestMotoResetDropsState(t *testing.T) {
	s := Moto(t)
	s.CreateUserKey(t, "alice")
	if got := listUsers(t); len(got) != 1 {
		t.Fatalf("users after create = %v, want [alice]", got)
	}
	s.Reset(t)
	if got := listUsers(t); len(got) != 0 {
		t.Errorf("users after reset = %v, want none", got)
	}
}

func TestMotoIsSharedAndHidesDeveloperConfig(t *testing.T) {
	t.Setenv("AWS_PROFILE", "no-such-profile-anywhere")
	t.Setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:1")
	a := Moto(t)
	if b := Moto(t); a != b {
		t.Error("Moto started a second server in one test binary")
	}
	if os.Getenv("AWS_PROFILE") != "" || os.Getenv("AWS_ENDPOINT_URL_IAM") != "" {
		t.Error("developer AWS variables survive SetEnv")
	}
	listUsers(t) // would fail on the missing profile or the dead endpoint
}

func TestMotoWithAuthRejectsUnknownKeys(t *testing.T) {
	s := MotoWithAuth(t)
	if s == Moto(t) {
		t.Fatal("auth server is the plain server")
	}
	s.SetEnv(t)
	key := s.CreateUserKey(t, "admin", AdminPolicy)
	// The dummy credentials SetEnv installs are not a moto key: refused.
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(cfg).ListUsers(context.Background(), &iam.ListUsersInput{}); err == nil {
		t.Error("auth server accepted dummy credentials")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", key.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", key.Secret.Reveal())
	if got := listUsers(t); len(got) != 1 || got[0] != "admin" {
		t.Errorf("users seen by the admin key = %v, want [admin]", got)
	}
}

// TestShutdownKeepsTheLogOnlyOnFailure: a passing run leaves no
// keywarden-moto-*.log behind; a failing one keeps it and says where.
func TestShutdownKeepsTheLogOnlyOnFailure(t *testing.T) {
	for _, failed := range []bool{false, true} {
		logf, err := os.CreateTemp(t.TempDir(), "keywarden-moto-*.log")
		if err != nil {
			t.Fatal(err)
		}
		logf.Close()
		cmd := exec.Command("sleep", "60") // stands in for moto_server: shutdown only stops a process
		setProcessGroup(cmd)
		if err := cmd.Start(); err != nil {
			t.Skipf("no sleep command: %v", err)
		}
		s := &MotoServer{LogPath: logf.Name(), cmd: cmd, done: make(chan struct{})}
		go func() { cmd.Wait(); close(s.done) }()
		var out strings.Builder
		s.shutdown(failed, &out)
		_, statErr := os.Stat(s.LogPath)
		if kept := statErr == nil; kept != failed {
			t.Errorf("failed=%v: log kept = %v", failed, kept)
		}
		if said := strings.Contains(out.String(), s.LogPath); said != failed {
			t.Errorf("failed=%v: output %q names the log: %v", failed, out.String(), said)
		}
	}
}
