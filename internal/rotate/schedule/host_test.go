package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// machine is a test's own home, XDG directories and PATH (holding only bin:
// no systemctl, no crontab unless the test writes them).
type machine struct {
	home, bin string
	env       map[string]string
	out       bytes.Buffer
}

func newMachine(t *testing.T) *machine {
	m := &machine{home: t.TempDir(), bin: t.TempDir()}
	m.env = map[string]string{"HOME": m.home, "XDG_CONFIG_HOME": filepath.Join(m.home, "cfg"),
		"XDG_STATE_HOME": filepath.Join(m.home, "state")}
	t.Setenv("PATH", m.bin)
	return m
}

func (m *machine) getenv(k string) string { return m.env[k] }

func (m *machine) host() Host { return Host{Getenv: m.getenv, Out: &m.out} }

// plan is Plan on this machine, choosing the kind as the machine would.
func (m *machine) plan(t *testing.T, o Options) Job {
	t.Helper()
	if o.Exe == "" {
		o.Exe = testExe
	}
	j, err := Plan(o, m.getenv, m.host().SystemdRuns())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// writeTool writes an executable shell script named name into bin.
func (m *machine) writeTool(t *testing.T, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(m.bin, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fakeCrontab installs a crontab command that keeps the table in a file, as
// the real one does in the spool, and says "no crontab" until one is written.
func (m *machine) fakeCrontab(t *testing.T) (table string) {
	// PATH holds only bin, so cat is looked for where systems keep it.
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
	m.writeTool(t, "crontab", fmt.Sprintf(`case "$1" in
-l) [ -f %[1]q ] || { echo "no crontab for tester" >&2; exit 1; }; exec %[2]q %[1]q ;;
-) exec %[2]q > %[1]q ;;
*) echo "crontab: bad usage" >&2; exit 2 ;;
esac
`, table, cat))
	return table
}

func TestInstallSystemdWithoutSystemctlWritesUnitsAndPrintsCommands(t *testing.T) {
	m := newMachine(t)
	if err := m.host().Install(context.Background(), m.plan(t, Options{Kind: Systemd, At: TimeOfDay{4, 40}})); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.home, "cfg", "systemd", "user")
	want := map[string]string{
		"keywarden-rotate.service": systemdService(Rotate, testExe, DefaultArgs),
		"keywarden-rotate.timer":   systemdTimer(Rotate, TimeOfDay{4, 40}),
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
	if diff := cmp.Diff(wantOut, m.out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if !strings.Contains(want["keywarden-rotate.timer"], "OnCalendar=*-*-* 04:40:00") {
		t.Error("At did not reach the timer")
	}
}

func TestInstallSystemdRunsSystemctl(t *testing.T) {
	m := newMachine(t)
	calls := filepath.Join(t.TempDir(), "calls")
	m.writeTool(t, "systemctl", fmt.Sprintf("echo \"$*\" >> %q\n", calls))
	// A running user instance keeps $XDG_RUNTIME_DIR/systemd: systemd is then the default kind.
	m.env["XDG_RUNTIME_DIR"] = t.TempDir()
	if err := os.Mkdir(filepath.Join(m.env["XDG_RUNTIME_DIR"], "systemd"), 0o700); err != nil {
		t.Fatal(err)
	}
	j := m.plan(t, Options{At: TimeOfDay{3, 17}, Args: []string{"--config", "/etc/keywarden/rotations.yaml", "--yes"}})
	if err := m.host().Install(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(calls)
	if diff := cmp.Diff("--user daemon-reload\n--user enable --now keywarden-rotate.timer\n", string(got)); diff != "" {
		t.Errorf("systemctl calls (-want +got):\n%s", diff)
	}
	service, err := os.ReadFile(filepath.Join(m.home, "cfg", "systemd", "user", "keywarden-rotate.service"))
	if err != nil || !strings.Contains(string(service), "ExecStart=/usr/local/bin/keywarden rotate --config /etc/keywarden/rotations.yaml --yes\n") {
		t.Errorf("service: %v\n%s", err, service)
	}
	if !strings.Contains(m.out.String(), "started keywarden-rotate.timer: daily at 03:17") {
		t.Errorf("output:\n%s", m.out.String())
	}
}

func TestInstallSystemctlFailureSaysTheUnitsAreWritten(t *testing.T) {
	m := newMachine(t)
	m.writeTool(t, "systemctl", "echo 'Failed to connect to bus: No medium found' >&2\nexit 1\n")
	err := m.host().Install(context.Background(), m.plan(t, Options{Kind: Systemd}))
	var h interface{ Hint() string }
	if err == nil || err.Error() != "start the timer: systemctl --user daemon-reload: exit status 1: Failed to connect to bus: No medium found" ||
		!errors.As(err, &h) || !strings.HasPrefix(h.Hint(), "the units are written") {
		t.Errorf("got %v", err)
	}
}

func TestInstallCronKeepsOtherLinesAndDoesNotDuplicate(t *testing.T) {
	m := newMachine(t)
	table := m.fakeCrontab(t)
	existing := "MAILTO=ops@example.invalid\n# nightly backup\n5 4 * * *  /usr/bin/backup --all   \n"
	if err := os.WriteFile(table, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(m.home, "state", "keywarden", "rotate.log")
	for _, at := range []TimeOfDay{{3, 17}, {5, 9}} {
		m.out.Reset()
		j := m.plan(t, Options{At: at, Args: []string{"--profile", "my prod", "--if-older-than", "60d", "--yes"}})
		if err := m.host().Install(context.Background(), j); err != nil {
			t.Fatalf("install at %s: %v", at, err)
		}
		if !strings.HasPrefix(m.out.String(), "installed in your crontab:\n") {
			t.Errorf("output:\n%s", m.out.String())
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

func TestInstallCronWithNoCrontabYet(t *testing.T) {
	m := newMachine(t)
	table := m.fakeCrontab(t)
	err := m.host().Install(context.Background(), m.plan(t, Options{Kind: Cron, At: TimeOfDay{3, 17}}))
	got, _ := os.ReadFile(table)
	if err != nil || strings.Count(string(got), "\n") != 1 || !strings.HasPrefix(string(got), "17 3 * * * /usr/local/bin/keywarden rotate --all-profiles") {
		t.Errorf("%v, crontab:\n%s", err, got)
	}
}

func TestInstallCrontabReadFailureLeavesItAlone(t *testing.T) {
	m := newMachine(t)
	m.writeTool(t, "crontab", "[ \"$1\" = -l ] || { echo written >&2; exit 3; }\necho 'crontab: permission denied' >&2\nexit 1\n")
	err := m.host().Install(context.Background(), m.plan(t, Options{Kind: Cron}))
	if err == nil || err.Error() != "read crontab: crontab -l: exit status 1: crontab: permission denied" {
		t.Errorf("got %v", err)
	}
}

func TestPrintIsTheJobAndHowToInstallIt(t *testing.T) {
	m := newMachine(t)
	var out, hints bytes.Buffer
	m.plan(t, Options{At: TimeOfDay{3, 17}}).Print(&out, &hints)
	wantLine := "17 3 * * * /usr/local/bin/keywarden rotate --all-profiles --if-older-than 90d --yes >>" +
		filepath.Join(m.home, "state", "keywarden", "rotate.log") + " 2>&1 # keywarden-rotate\n"
	if out.String() != wantLine || !strings.Contains(hints.String(), "hint: 'keywarden rotate schedule --kind cron --install'") {
		t.Errorf("without systemd: %q, hints %q", out.String(), hints.String())
	}
	out.Reset()
	m.plan(t, Options{Kind: Systemd, At: TimeOfDay{3, 17}}).Print(&out, &hints)
	dir := filepath.Join(m.home, "cfg", "systemd", "user")
	want := "# " + dir + "/keywarden-rotate.service\n" + systemdService(Rotate, testExe, DefaultArgs) +
		"\n# " + dir + "/keywarden-rotate.timer\n" + systemdTimer(Rotate, TimeOfDay{3, 17})
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("systemd (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("printing wrote %s: %v", dir, err)
	}
}

func TestPlanDirectories(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		kind Kind
		want string // the first unit's path, or the log directory
	}{
		{"XDG_CONFIG_HOME", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c"}, Systemd, "/c/systemd/user/keywarden-rotate.service"},
		{"a relative XDG_CONFIG_HOME is ignored", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "c"}, Systemd, "/h/.config/systemd/user/keywarden-rotate.service"},
		{"XDG_STATE_HOME", map[string]string{"HOME": "/h", "XDG_STATE_HOME": "/s"}, Cron, "/s/keywarden"},
		{"HOME", map[string]string{"HOME": "/h"}, Cron, "/h/.local/state/keywarden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := Plan(Options{Kind: tt.kind, Exe: testExe}, func(k string) string { return tt.env[k] }, false)
			got := j.LogDir
			if tt.kind == Systemd && err == nil {
				got = j.Units[0].Path
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := Plan(Options{Kind: Cron, Exe: testExe}, func(string) string { return "" }, false); err == nil ||
		!strings.Contains(err.Error(), "$HOME is not defined") {
		t.Errorf("no HOME: %v", err)
	}
	_, err := Plan(Options{Kind: Cron, Exe: testExe, Args: []string{"--config", "a\nb", "--yes"}}, func(string) string { return "/h" }, false)
	if err == nil || err.Error() != `argument "a\nb" has a line break, which a crontab line cannot hold` {
		t.Errorf("a line break: %v", err)
	}
}

func TestPlanWarnings(t *testing.T) {
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
		{"rotate args without --yes", testExe, []string{"--all-profiles"}, []string{
			"warning: ROTATE ARGS lack --yes; no one can answer rotate's questions in a scheduled run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := Plan(Options{Kind: Cron, Exe: tt.exe, Args: tt.args}, func(string) string { return "/h" }, false)
			if diff := cmp.Diff(tt.want, j.Warnings); err != nil || diff != "" {
				t.Errorf("%v, warnings (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestKindSet(t *testing.T) {
	var k Kind
	for _, s := range []string{"systemd", "cron", ""} {
		if err := k.Set(s); err != nil || k != Kind(s) {
			t.Errorf("Set(%q) = %v, kind %q", s, err, k)
		}
	}
	if err := k.Set("launchd"); err == nil || err.Error() != "want systemd or cron" {
		t.Errorf("Set(launchd) = %v", err)
	}
}
