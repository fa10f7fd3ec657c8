package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// runScheduleCLI runs `keywarden rotate schedule ARGS` in-process the way
// Main does, as the binary exe, and returns stdout, stderr and the exit status.
func runScheduleCLI(t *testing.T, exe string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	deps := Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
	cmd := newRotateScheduleCmdWith(deps, scheduleDeps{executable: func() (string, error) { return exe, nil }})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		printError(&stderr, err)
	}
	return stdout.String(), stderr.String(), ExitCode(err)
}

// scheduleHome gives the test its own home and XDG directories and a PATH
// holding only bin (no systemctl, no crontab unless the test writes them).
func scheduleHome(t *testing.T) (home, bin string) {
	home, bin = t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "cfg"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("PATH", bin)
	return home, bin
}

// writeTool writes an executable shell script named name into bin.
func writeTool(t *testing.T, bin, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fakeCrontab installs a crontab command that keeps the table in a file, as
// the real one does in the spool, and says "no crontab" until one is written.
func fakeCrontab(t *testing.T, bin string) (table string) {
	// PATH holds only bin by now, so cat is looked for where systems keep it.
	cat := ""
	for _, c := range []string{"/usr/bin/cat", "/bin/cat"} {
		if _, err := os.Stat(c); err == nil {
			cat = c
			break
		}
	}
	if cat == "" {
		t.Skip("no cat in /usr/bin or /bin")
	}
	table = filepath.Join(t.TempDir(), "crontab")
	writeTool(t, bin, "crontab", fmt.Sprintf(`case "$1" in
-l) [ -f %[1]q ] || { echo "no crontab for tester" >&2; exit 1; }; exec %[2]q %[1]q ;;
-) exec %[2]q > %[1]q ;;
*) echo "crontab: bad usage" >&2; exit 2 ;;
esac
`, table, cat))
	return table
}

func TestScheduleInstallSystemdWithoutSystemctlWritesUnitsAndPrintsCommands(t *testing.T) {
	home, _ := scheduleHome(t)
	stdout, stderr, code := runScheduleCLI(t, testExe, "--install", "--kind", "systemd", "--at", "04:40")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dir := filepath.Join(home, "cfg", "systemd", "user")
	want := map[string]string{
		"keywarden-rotate.service": systemdService(testExe, defaultRotateArgs),
		"keywarden-rotate.timer":   systemdTimer(timeOfDay{4, 40}),
	}
	for name, text := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != text {
			t.Errorf("%s: %v\n%s", name, err, got)
		}
	}
	wantOut := fmt.Sprintf("wrote %s/keywarden-rotate.service\nwrote %[1]s/keywarden-rotate.timer\n"+
		"systemctl is not on PATH; to start the timer, run:\n"+
		"  systemctl --user daemon-reload\n  systemctl --user enable --now keywarden-rotate.timer\n", dir)
	if diff := cmp.Diff(wantOut, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if !strings.Contains(want["keywarden-rotate.timer"], "OnCalendar=*-*-* 04:40:00") {
		t.Error("--at did not reach the timer")
	}
}

func TestScheduleInstallSystemdRunsSystemctl(t *testing.T) {
	home, bin := scheduleHome(t)
	calls := filepath.Join(t.TempDir(), "calls")
	writeTool(t, bin, "systemctl", fmt.Sprintf("echo \"$*\" >> %q\n", calls))
	// A running user instance keeps $XDG_RUNTIME_DIR/systemd: systemd is then the default kind.
	rt := t.TempDir()
	if err := os.Mkdir(filepath.Join(rt, "systemd"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", rt)
	stdout, stderr, code := runScheduleCLI(t, testExe, "--install", "--", "--config", "/etc/keywarden/rotations.yaml", "--yes")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(calls)
	if diff := cmp.Diff("--user daemon-reload\n--user enable --now keywarden-rotate.timer\n", string(got)); diff != "" {
		t.Errorf("systemctl calls (-want +got):\n%s", diff)
	}
	service, err := os.ReadFile(filepath.Join(home, "cfg", "systemd", "user", "keywarden-rotate.service"))
	if err != nil || !strings.Contains(string(service), "ExecStart=/usr/local/bin/keywarden rotate --config /etc/keywarden/rotations.yaml --yes\n") {
		t.Errorf("service: %v\n%s", err, service)
	}
	if !strings.Contains(stdout, "started keywarden-rotate.timer: daily at 03:17") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

func TestScheduleSystemctlFailureIsExit2(t *testing.T) {
	_, bin := scheduleHome(t)
	writeTool(t, bin, "systemctl", "echo 'Failed to connect to bus: No medium found' >&2\nexit 1\n")
	_, stderr, code := runScheduleCLI(t, testExe, "--install", "--kind", "systemd")
	if code != ExitError || !strings.Contains(stderr, "keywarden: start the timer: systemctl --user daemon-reload: exit status 1: Failed to connect to bus") ||
		!strings.Contains(stderr, "hint: the units are written") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestScheduleInstallCronKeepsOtherLinesAndDoesNotDuplicate(t *testing.T) {
	home, bin := scheduleHome(t)
	table := fakeCrontab(t, bin)
	existing := "MAILTO=ops@example.invalid\n# nightly backup\n5 4 * * *  /usr/bin/backup --all   \n"
	if err := os.WriteFile(table, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(home, "state", "keywarden", "rotate.log")
	for _, at := range []string{"03:17", "05:09"} {
		stdout, stderr, code := runScheduleCLI(t, testExe, "--install", "--at", at, "--", "--profile", "my prod", "--if-older-than", "60d", "--yes")
		if code != ExitOK {
			t.Fatalf("install at %s: exit %d: %s", at, code, stderr)
		}
		if !strings.HasPrefix(stdout, "installed in your crontab:\n") {
			t.Errorf("stdout:\n%s", stdout)
		}
	}
	got, _ := os.ReadFile(table)
	want := existing + "9 5 * * * /usr/local/bin/keywarden rotate --profile 'my prod' --if-older-than 60d --yes >>" + log + " 2>&1 # keywarden-rotate\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("crontab after two installs (-want +got):\n%s", diff)
	}
	if st, err := os.Stat(filepath.Dir(log)); err != nil || !st.IsDir() {
		t.Errorf("log directory not created: %v", err)
	}
}

func TestScheduleInstallCronWithNoCrontabYet(t *testing.T) {
	_, bin := scheduleHome(t)
	table := fakeCrontab(t, bin)
	_, stderr, code := runScheduleCLI(t, testExe, "--install", "--kind", "cron")
	got, _ := os.ReadFile(table)
	if code != ExitOK || strings.Count(string(got), "\n") != 1 || !strings.HasPrefix(string(got), "17 3 * * * /usr/local/bin/keywarden rotate --all-profiles") {
		t.Errorf("exit %d, stderr %s, crontab:\n%s", code, stderr, got)
	}
}

func TestScheduleCrontabReadFailureLeavesItAlone(t *testing.T) {
	_, bin := scheduleHome(t)
	writeTool(t, bin, "crontab", "[ \"$1\" = -l ] || { echo written >&2; exit 3; }\necho 'crontab: permission denied' >&2\nexit 1\n")
	_, stderr, code := runScheduleCLI(t, testExe, "--install", "--kind", "cron")
	if code != ExitError || !strings.Contains(stderr, "keywarden: read crontab: crontab -l: exit status 1: crontab: permission denied") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestSchedulePrintsByDefault(t *testing.T) {
	home, _ := scheduleHome(t)
	stdout, stderr, code := runScheduleCLI(t, testExe)
	wantLine := "17 3 * * * /usr/local/bin/keywarden rotate --all-profiles --if-older-than 90d --yes >>" +
		filepath.Join(home, "state", "keywarden", "rotate.log") + " 2>&1 # keywarden-rotate\n"
	if code != ExitOK || stdout != wantLine || !strings.Contains(stderr, "hint: 'keywarden rotate schedule --kind cron --install'") {
		t.Errorf("without systemctl: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, _ = runScheduleCLI(t, testExe, "--kind", "systemd")
	dir := filepath.Join(home, "cfg", "systemd", "user")
	want := "# " + dir + "/keywarden-rotate.service\n" + systemdService(testExe, defaultRotateArgs) +
		"\n# " + dir + "/keywarden-rotate.timer\n" + systemdTimer(timeOfDay{3, 17})
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("--kind systemd (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("printing wrote %s: %v", dir, err)
	}
}

func TestScheduleWarnings(t *testing.T) {
	tests := []struct {
		name, exe string
		args      []string
		want      []string
	}{
		{"an installed binary and --yes", testExe, nil, nil},
		{"a go run binary", "/tmp/go-build2784/b001/exe/keywarden", nil, []string{
			"warning: /tmp/go-build2784/b001/exe/keywarden is a temporary build (go run or go test); the job will fail once it is removed",
			"hint: install keywarden (go install github.com/keywarden/keywarden/cmd/keywarden@latest) and schedule that binary"}},
		{"a binary in GOTMPDIR", "/scratch/go-build99/b001/exe/keywarden", nil, []string{
			"warning: /scratch/go-build99/b001/exe/keywarden is a temporary build (go run or go test); the job will fail once it is removed",
			"hint: install keywarden (go install github.com/keywarden/keywarden/cmd/keywarden@latest) and schedule that binary"}},
		{"rotate args without --yes", testExe, []string{"--", "--all-profiles"}, []string{
			"warning: ROTATE ARGS lack --yes; no one can answer rotate's questions in a scheduled run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheduleHome(t)
			_, stderr, code := runScheduleCLI(t, tt.exe, append([]string{"--kind", "cron"}, tt.args...)...)
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "warning:") || strings.HasPrefix(l, "hint: install") {
					got = append(got, l)
				}
			}
			if diff := cmp.Diff(tt.want, got); code != ExitOK || diff != "" {
				t.Errorf("exit %d, warnings (-want +got):\n%s", code, diff)
			}
		})
	}
}

func TestScheduleBadUsageIsOneLineExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--at", "25:00"}, `keywarden: --at "25:00": want a time of day HH:MM, 00:00 to 23:59`},
		{[]string{"--at", "3pm"}, `keywarden: --at "3pm": want a time of day HH:MM, 00:00 to 23:59`},
		{[]string{"--kind", "launchd"}, `keywarden: --kind "launchd": want systemd or cron`},
		{[]string{"--all-profiles"}, `keywarden: unknown flag: --all-profiles`},
		{[]string{"daily", "--", "--yes"}, `keywarden: unexpected argument "daily": put rotate's arguments after --`},
		{[]string{"--kind", "cron", "--", "--config", "a\nb", "--yes"}, `keywarden: argument "a\nb" has a line break, which a crontab line cannot hold`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			scheduleHome(t)
			stdout, stderr, code := runScheduleCLI(t, testExe, tt.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != ExitError || stdout != "" || lines[0] != tt.want || len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ") {
				t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
			}
		})
	}
}

func TestScheduleHelpIsComplete(t *testing.T) {
	stdout, _, code := runScheduleCLI(t, testExe, "--help")
	for _, want := range []string{"Examples:", "--install --at 04:40", "Persistent=true", "# keywarden-rotate", "Exit status: 0"} {
		if code != ExitOK || !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
}
