package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/atomicfile"
)

// Host is the machine a job is installed on: it writes the unit files and
// runs systemctl and crontab (found on PATH).
type Host struct {
	Getenv func(string) string // XDG_RUNTIME_DIR
	Out    io.Writer           // what was written, started or installed
}

// SystemdRuns: systemctl is on PATH and this user's systemd instance runs
// (it keeps $XDG_RUNTIME_DIR/systemd); in containers and under cron-only
// setups systemctl exists but `systemctl --user` has no one to talk to.
func (h Host) SystemdRuns() bool {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return false
	}
	if _, err := xdgDir(h.Getenv, "XDG_CONFIG_HOME", ".config"); err != nil {
		return false
	}
	rt := h.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(rt, "systemd"))
	return err == nil && st.IsDir()
}

// Install installs j. An error with a Hint method says what to do next.
func (h Host) Install(ctx context.Context, j Job) error {
	if j.Kind == Cron {
		return h.installCron(ctx, j)
	}
	return h.installSystemd(ctx, j)
}

// systemctlSteps are the commands that load and start v's timer.
func systemctlSteps(v Verb) [][]string {
	return [][]string{
		{"systemctl", "--user", "daemon-reload"},
		{"systemctl", "--user", "enable", "--now", v.unit() + ".timer"},
	}
}

func (h Host) installSystemd(ctx context.Context, j Job) error {
	if err := os.MkdirAll(filepath.Dir(j.Units[0].Path), 0o755); err != nil {
		return fmt.Errorf("install systemd units: %w", err)
	}
	for _, u := range j.Units {
		err := atomicfile.Write(u.Path, 0o644, func(w io.Writer) error {
			_, err := io.WriteString(w, u.Text)
			return err
		})
		if err != nil {
			return fmt.Errorf("install systemd units: %w", err)
		}
		fmt.Fprintf(h.Out, "wrote %s\n", u.Path)
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		fmt.Fprintln(h.Out, "systemctl is not on PATH; to start the timer, run:")
		for _, s := range systemctlSteps(j.Verb) {
			fmt.Fprintf(h.Out, "  %s\n", strings.Join(s, " "))
		}
		return nil
	}
	for _, s := range systemctlSteps(j.Verb) {
		if _, err := runTool(ctx, nil, s...); err != nil {
			return &hintError{fmt.Errorf("start the timer: %w", err),
				"the units are written; once the user systemd instance runs: " + strings.Join(systemctlSteps(j.Verb)[1], " ")}
		}
	}
	fmt.Fprintf(h.Out, "started %s.timer: daily at %s; see 'systemctl --user list-timers %s.timer'\n", j.Verb.unit(), j.At, j.Verb.unit())
	return nil
}

func (h Host) installCron(ctx context.Context, j Job) error {
	// The job's >> redirection fails, and the job with it, if the directory is missing.
	if err := os.MkdirAll(j.LogDir, 0o700); err != nil {
		return fmt.Errorf("create the job's log directory: %w", err)
	}
	current, err := readCrontab(ctx)
	if err != nil {
		return err
	}
	if _, err := runTool(ctx, strings.NewReader(replaceCronLine(j.Verb, current, j.Line)), "crontab", "-"); err != nil {
		return fmt.Errorf("install crontab: %w", err)
	}
	fmt.Fprintf(h.Out, "installed in your crontab:\n%s\n", j.Line)
	return nil
}

// readCrontab returns the user's crontab; none yet is an empty one.
func readCrontab(ctx context.Context) (string, error) {
	out, err := runTool(ctx, nil, "crontab", "-l")
	var te *toolError
	if errors.As(err, &te) && strings.Contains(strings.ToLower(te.stderr), "no crontab") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read crontab: %w", err)
	}
	return string(out), nil
}

// runTool runs a helper program (systemctl, crontab) and returns its stdout;
// a failure carries the first line of its stderr.
func runTool(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = stdin, &stdout, &stderr
	if err := c.Run(); err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return stdout.Bytes(), &toolError{cmd: strings.Join(argv, " "), err: err, stderr: msg}
	}
	return stdout.Bytes(), nil
}

type toolError struct {
	cmd, stderr string
	err         error
}

func (e *toolError) Error() string {
	if e.stderr == "" {
		return fmt.Sprintf("%s: %v", e.cmd, e.err)
	}
	return fmt.Sprintf("%s: %v: %s", e.cmd, e.err, e.stderr)
}

func (e *toolError) Unwrap() error { return e.err }

// hintError is an error and what to do about it.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
