package schedule

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testExe = "/usr/local/bin/keywarden"

func TestScheduleSystemdUnitsGolden(t *testing.T) {
	wantService := `# Written by 'keywarden rotate schedule'; running it again with --install rewrites this file.
[Unit]
Description=keywarden: rotate AWS access keys

[Service]
Type=oneshot
ExecStart=/usr/local/bin/keywarden rotate --all-profiles --if-older-than 90d --yes
`
	wantTimer := `# Written by 'keywarden rotate schedule'; running it again with --install rewrites this file.
[Unit]
Description=keywarden: rotate AWS access keys daily at 03:17

[Timer]
OnCalendar=*-*-* 03:17:00
RandomizedDelaySec=15min
Persistent=true

[Install]
WantedBy=timers.target
`
	if diff := cmp.Diff(wantService, systemdService(Rotate, testExe, DefaultArgs)); diff != "" {
		t.Errorf("service (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantTimer, systemdTimer(Rotate, TimeOfDay{3, 17})); diff != "" {
		t.Errorf("timer (-want +got):\n%s", diff)
	}
}

func TestScheduleCronLineGolden(t *testing.T) {
	got, err := cronLine(Rotate, TimeOfDay{3, 7}, testExe, DefaultArgs, "/home/me/.local/state/keywarden/rotate.log")
	want := "7 3 * * * /usr/local/bin/keywarden rotate --all-profiles --if-older-than 90d --yes" +
		" >>/home/me/.local/state/keywarden/rotate.log 2>&1 # keywarden-rotate"
	if err != nil || got != want {
		t.Errorf("cron line\n got %s (%v)\nwant %s", got, err, want)
	}
}

// trickyArgs are arguments that break naive quoting in sh, cron or systemd.
var trickyArgs = []string{
	"/home/me/my ops/rotations.yaml", `it's`, `say "hi"`, "50%", "%n%%", "$HOME", "${USER}", `back\slash`,
	`trailing\`, `a\%b`, "", "semi;colon", "tab\there", "*", "~", "--to=exec:echo `id` | tee x",
}

func TestScheduleSystemdQuoting(t *testing.T) {
	want := []string{
		`"/home/me/my ops/rotations.yaml"`, `"it's"`, `"say \"hi\""`, "50%%", "%%n%%%%", `"$$HOME"`, `"$${USER}"`,
		`"back\\slash"`, `"trailing\\"`, `"a\\%%b"`, `""`, `"semi;colon"`, `"tab\there"`, `"*"`, `"~"`,
		"\"--to=exec:echo `id` | tee x\"",
	}
	var got []string
	for _, a := range trickyArgs {
		got = append(got, systemdQuote(a))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("systemd words (-want +got):\n%s", diff)
	}
	if q := systemdQuote("line\nbreak\x01"); q != `"line\nbreak\x01"` {
		t.Errorf("control characters: %s", q)
	}
}

// cronCommand does to a crontab command what cron does before handing it to
// sh: an unescaped % ends the command (the rest becomes stdin), and the
// backslash of \% is dropped.
func cronCommand(s string) string {
	var b strings.Builder
	escaped := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped && c == '%':
			b.WriteByte('%')
		case escaped:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\\':
			escaped = true
			continue
		case c == '%':
			return b.String()
		default:
			b.WriteByte(c)
		}
		escaped = false
	}
	if escaped {
		b.WriteByte('\\')
	}
	return b.String()
}

// TestScheduleCronQuotingSurvivesCronAndSh runs each quoted argument the way
// cron would, through a real sh, and checks the program receives it intact.
func TestScheduleCronQuotingSurvivesCronAndSh(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	for _, a := range trickyArgs {
		quoted := cronQuote(a)
		out, err := exec.Command(sh, "-c", `printf '%s\0' `+cronCommand(quoted)).Output()
		if err != nil {
			t.Errorf("%q quoted as %s: sh failed: %v", a, quoted, err)
			continue
		}
		if got := string(bytes.TrimSuffix(out, []byte{0})); got != a {
			t.Errorf("%q quoted as %s reached the program as %q", a, quoted, got)
		}
	}
}

func TestScheduleCronRefusesLineBreaks(t *testing.T) {
	_, err := cronLine(Rotate, TimeOfDay{3, 17}, testExe, []string{"--config", "a\nb"}, "/l")
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("an argument with a newline: %v", err)
	}
}

// TestScheduleUnitsPassSystemdAnalyze has systemd itself parse the units with
// every tricky argument, where systemd-analyze is installed.
func TestScheduleUnitsPassSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	exe, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true on PATH")
	}
	dir := t.TempDir()
	args := append([]string{"line\nbreak"}, trickyArgs...)
	for name, text := range map[string]string{
		Rotate.unit() + ".service": systemdService(Rotate, exe, args),
		Rotate.unit() + ".timer":   systemdTimer(Rotate, TimeOfDay{23, 59}),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", filepath.Join(dir, Rotate.unit()+".service"), filepath.Join(dir, Rotate.unit()+".timer"))
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestReplaceCronLine(t *testing.T) {
	const ours = "17 3 * * * /k rotate >>/l 2>&1 # keywarden-rotate"
	tests := []struct {
		name, crontab, want string
	}{
		{"no crontab yet", "", ours + "\n"},
		{"appended after other lines", "MAILTO=me\n5 4 * * * backup\n", "MAILTO=me\n5 4 * * * backup\n" + ours + "\n"},
		{"a last line without newline is kept and ours follows",
			"5 4 * * * backup", "5 4 * * * backup\n" + ours + "\n"},
		{"replaced where it stands", "A\n1 1 * * * /old rotate # keywarden-rotate\nB\n", "A\n" + ours + "\nB\n"},
		{"a second tagged line is dropped",
			"1 1 * * * x # keywarden-rotate\nA\n2 2 * * * y # keywarden-rotate  \n", ours + "\nA\n"},
		{"an untagged mention is kept", "# keywarden-rotate runs at night\nA # keywarden-rotate-old\n",
			"# keywarden-rotate runs at night\nA # keywarden-rotate-old\n" + ours + "\n"},
		{"blank lines and spacing kept", "\n\n  5 4 * * *   backup  \n", "\n\n  5 4 * * *   backup  \n" + ours + "\n"},
		{"an unterminated last line after ours stays unterminated",
			"1 1 * * * x # keywarden-rotate\nA", ours + "\nA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, replaceCronLine(Rotate, tt.crontab, ours)); diff != "" {
				t.Errorf("crontab (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAt(t *testing.T) {
	good := map[string]TimeOfDay{"03:17": {3, 17}, "3:17": {3, 17}, "00:00": {0, 0}, "23:59": {23, 59}}
	for in, want := range good {
		if got, err := ParseAt(in); err != nil || got != want {
			t.Errorf("ParseAt(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "24:00", "12:60", "3:7", "03:17:00", "3pm", "-1:10", "+3:10", "03 17", "１２:00"} {
		if _, err := ParseAt(in); err == nil {
			t.Errorf("ParseAt(%q) accepted", in)
		}
	}
}

func FuzzParseAt(f *testing.F) {
	for _, s := range []string{"03:17", "3:17", "24:00", "", ":", "99:99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := ParseAt(s)
		if err != nil {
			return
		}
		if at.Hour < 0 || at.Hour > 23 || at.Minute < 0 || at.Minute > 59 {
			t.Fatalf("ParseAt(%q) = %v, out of range", s, at)
		}
		if again, err := ParseAt(at.String()); err != nil || again != at {
			t.Fatalf("%v does not round-trip: %v, %v", at, again, err)
		}
	})
}

// Another verb's daily job (retire finish) has units, a crontab tag and a
// log of its own, so it sits beside rotate's, and needs no --yes.
func TestRetireFinishJob(t *testing.T) {
	env := map[string]string{"HOME": "/home/me"}
	getenv := func(k string) string { return env[k] }
	j, err := Plan(Options{Verb: RetireFinish, At: TimeOfDay{4, 17}, Exe: testExe}, getenv, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "17 4 * * * " + testExe + " retire finish --all >>/home/me/.local/state/keywarden/retire.log 2>&1 # keywarden-retire"
	if j.Line != want || len(j.Warnings) != 0 {
		t.Errorf("cron: %q (warnings %v), want %q", j.Line, j.Warnings, want)
	}
	if got := replaceCronLine(RetireFinish, "0 3 * * * x rotate # keywarden-rotate\n", j.Line); got != "0 3 * * * x rotate # keywarden-rotate\n"+want+"\n" {
		t.Errorf("rotate's line was not kept beside retire's:\n%s", got)
	}
	j, err = Plan(Options{Verb: RetireFinish, At: TimeOfDay{4, 17}, Exe: testExe}, getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Units) != 2 || !strings.HasSuffix(j.Units[0].Path, "/keywarden-retire.service") ||
		!strings.Contains(j.Units[0].Text, "ExecStart="+testExe+" retire finish --all\n") ||
		!strings.Contains(j.Units[1].Text, "Description=keywarden: retire the access keys nothing uses any more daily at 04:17") {
		t.Errorf("systemd: %+v", j.Units)
	}
}
