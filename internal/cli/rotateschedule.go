package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/atomicfile"
)

// scheduleOptions is what `keywarden rotate schedule` was told.
type scheduleOptions struct {
	install bool
	kind    string // systemd or cron; resolved from the machine when not given
	at      timeOfDay
	args    []string // rotate's arguments
	exe     string   // the absolute path of keywarden the job runs
}

// scheduleDeps are the facts about the running process the command reads,
// replaceable so tests get a stable binary path.
type scheduleDeps struct {
	executable func() (string, error)
}

// defaultRotateArgs is a daily run that rotates every profile's long-term key
// once it is 90 days old, without asking (no one is there to answer).
var defaultRotateArgs = []string{"--all-profiles", "--if-older-than", "90d", "--yes"}

const scheduleLong = `Print, or with --install install, a daily job that runs 'keywarden rotate' with
ROTATE ARGS (default: --all-profiles --if-older-than 90d --yes), so keys are rotated once they
reach their age limit without anyone remembering to.

The job runs this keywarden binary by its absolute path. A binary from 'go run' lives in a
temporary directory that is soon removed: install keywarden (go install) and schedule that.
The job runs in your home directory, so give files in ROTATE ARGS (--config) as absolute paths.

--kind systemd (the default where systemctl and a user systemd instance are available) writes
a user service and timer, ~/.config/systemd/user/keywarden-rotate.service and .timer
($XDG_CONFIG_HOME is honoured). The timer fires daily at --at (default 03:17), up to 15 minutes
later at random, and with Persistent=true a run missed while the machine slept happens when it
wakes. --install writes both files, then runs 'systemctl --user daemon-reload' and
'systemctl --user enable --now keywarden-rotate.timer' (or prints them when systemctl is not
on PATH). Output goes to the journal: journalctl --user -u keywarden-rotate. On a server, run
'loginctl enable-linger $USER' so the timer runs while you are logged out.

--kind cron prints one crontab line tagged '# keywarden-rotate' that appends the job's output
to $XDG_STATE_HOME/keywarden/rotate.log (default ~/.local/state/keywarden/rotate.log). --install
reads 'crontab -l', replaces a line tagged so (installing twice leaves one), keeps every other
line as it was, and writes the result back with 'crontab -'.

Arguments are quoted for systemd's ExecStart syntax or for sh and cron (where % is special).

Exit status: 0 printed or installed, 2 usage error or a failed install.`

const scheduleExample = `  # print the systemd units (or crontab line) for the default daily rotation
  keywarden rotate schedule

  # install it, at 04:40
  keywarden rotate schedule --install --at 04:40

  # rotate the keys of a rotations file every night, from cron
  keywarden rotate schedule --install --kind cron -- --config /home/me/ops/rotations.yaml --yes`

// newRotateScheduleCmd is `keywarden rotate schedule`.
func newRotateScheduleCmd(deps Deps) *cobra.Command {
	return newRotateScheduleCmdWith(deps, scheduleDeps{executable: os.Executable})
}

func newRotateScheduleCmdWith(deps Deps, sd scheduleDeps) *cobra.Command {
	var (
		opts     scheduleOptions
		kind, at string
	)
	cmd := &cobra.Command{
		Use:     "schedule [--install] [--kind systemd|cron] [--at HH:MM] [-- ROTATE ARGS...]",
		Short:   "Print or install a daily job that runs keywarden rotate",
		Long:    scheduleLong,
		Example: scheduleExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(kind, at, args, cmd.ArgsLenAtDash()); err != nil {
				return usageErr(err)
			}
			return runRotateSchedule(cmd.Context(), opts, deps, sd)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.install, "install", false, "install the job instead of printing it")
	f.StringVar(&kind, "kind", "", "systemd or cron (default: systemd where a user systemd instance runs, else cron)")
	f.StringVar(&at, "at", "03:17", "local time of day to run, HH:MM (off the hour, away from everyone else's jobs)")
	return cmd
}

// resolve checks the flags; ROTATE ARGS must follow --, so that rotate's
// flags are not taken for schedule's own.
func (o *scheduleOptions) resolve(kind, at string, args []string, dash int) error {
	var err error
	if o.at, err = parseAt(at); err != nil {
		return err
	}
	switch kind {
	case "", "systemd", "cron":
		o.kind = kind
	default:
		return fmt.Errorf("--kind %q: want systemd or cron", kind)
	}
	if dash != 0 && len(args) > 0 {
		return fmt.Errorf("unexpected argument %q: put rotate's arguments after --", args[0])
	}
	o.args = defaultRotateArgs
	if dash == 0 && len(args) > 0 {
		o.args = args
	}
	return nil
}

func runRotateSchedule(ctx context.Context, opts scheduleOptions, deps Deps, sd scheduleDeps) error {
	exe, err := sd.executable()
	if err != nil {
		return fmt.Errorf("find keywarden's own path for the job: %w", err)
	}
	if opts.exe, err = filepath.Abs(exe); err != nil {
		return fmt.Errorf("find keywarden's own path for the job: %w", err)
	}
	warnSchedule(deps.Stderr, opts)
	if opts.kind == "" {
		opts.kind = "cron"
		if systemdUsable() {
			opts.kind = "systemd"
		}
	}
	if opts.kind == "systemd" {
		return scheduleSystemd(ctx, opts, deps)
	}
	return scheduleCron(ctx, opts, deps)
}

// warnSchedule warns about jobs that would fail later, unattended.
func warnSchedule(w io.Writer, opts scheduleOptions) {
	if isTempBuild(opts.exe) {
		fmt.Fprintf(w, "warning: %s is a temporary build (go run or go test); the job will fail once it is removed\n"+
			"hint: install keywarden (go install github.com/keywarden/keywarden/cmd/keywarden@latest) and schedule that binary\n", opts.exe)
	}
	if !slices.Contains(opts.args, "--yes") && !slices.Contains(opts.args, "-y") {
		fmt.Fprintln(w, "warning: ROTATE ARGS lack --yes; no one can answer rotate's questions in a scheduled run")
	}
}

// isTempBuild tells a binary `go run` or `go test` built in a go-build
// directory under the temporary directory, which the go command deletes.
func isTempBuild(exe string) bool {
	for _, dir := range strings.Split(filepath.ToSlash(exe), "/") {
		if strings.HasPrefix(dir, "go-build") {
			return true
		}
	}
	return strings.HasPrefix(exe, filepath.Clean(os.TempDir())+string(filepath.Separator))
}

// systemdUsable: systemctl is on PATH and this user's systemd instance runs
// (it keeps $XDG_RUNTIME_DIR/systemd); in containers and under cron-only
// setups systemctl exists but `systemctl --user` has no one to talk to.
func systemdUsable() bool {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return false
	}
	if _, err := userConfigDir(); err != nil {
		return false
	}
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(rt, "systemd"))
	return err == nil && st.IsDir()
}

// userConfigDir is $XDG_CONFIG_HOME, else ~/.config; a relative
// XDG_CONFIG_HOME is ignored, as the XDG spec says.
func userConfigDir() (string, error) {
	return xdgDir("XDG_CONFIG_HOME", ".config")
}

func xdgDir(env, fallback string) (string, error) {
	if d := os.Getenv(env); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home directory for %s: %w", fallback, err)
	}
	return filepath.Join(home, fallback), nil
}

// systemctlSteps are the commands that load and start the timer.
var systemctlSteps = [][]string{
	{"systemctl", "--user", "daemon-reload"},
	{"systemctl", "--user", "enable", "--now", scheduleUnit + ".timer"},
}

func scheduleSystemd(ctx context.Context, opts scheduleOptions, deps Deps) error {
	cfg, err := userConfigDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg, "systemd", "user")
	units := []struct{ path, text string }{
		{filepath.Join(dir, scheduleUnit+".service"), systemdService(opts.exe, opts.args)},
		{filepath.Join(dir, scheduleUnit+".timer"), systemdTimer(opts.at)},
	}
	if !opts.install {
		for i, u := range units {
			if i > 0 {
				fmt.Fprintln(deps.Stdout)
			}
			fmt.Fprintf(deps.Stdout, "# %s\n%s", u.path, u.text)
		}
		fmt.Fprintln(deps.Stderr, "hint: 'keywarden rotate schedule --install' writes these files and starts the timer")
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install systemd units: %w", err)
	}
	for _, u := range units {
		err := atomicfile.Write(u.path, 0o644, func(w io.Writer) error {
			_, err := io.WriteString(w, u.text)
			return err
		})
		if err != nil {
			return fmt.Errorf("install systemd units: %w", err)
		}
		fmt.Fprintf(deps.Stdout, "wrote %s\n", u.path)
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		fmt.Fprintln(deps.Stdout, "systemctl is not on PATH; to start the timer, run:")
		for _, s := range systemctlSteps {
			fmt.Fprintf(deps.Stdout, "  %s\n", strings.Join(s, " "))
		}
		return nil
	}
	for _, s := range systemctlSteps {
		if _, err := runTool(ctx, nil, s...); err != nil {
			return withHint(fmt.Errorf("start the timer: %w", err),
				"the units are written; once the user systemd instance runs: "+strings.Join(systemctlSteps[1], " "))
		}
	}
	fmt.Fprintf(deps.Stdout, "started %s.timer: daily at %s; see 'systemctl --user list-timers %s.timer'\n", scheduleUnit, opts.at, scheduleUnit)
	return nil
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

func scheduleCron(ctx context.Context, opts scheduleOptions, deps Deps) error {
	state, err := xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state"))
	if err != nil {
		return err
	}
	logDir := filepath.Join(state, "keywarden")
	line, err := cronLine(opts.at, opts.exe, opts.args, filepath.Join(logDir, "rotate.log"))
	if err != nil {
		return usageErr(err)
	}
	if !opts.install {
		fmt.Fprintln(deps.Stdout, line)
		fmt.Fprintf(deps.Stderr, "hint: 'keywarden rotate schedule --kind cron --install' adds it to your crontab (and creates %s)\n", logDir)
		return nil
	}
	// The job's >> redirection fails, and the job with it, if the directory is missing.
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return fmt.Errorf("create the job's log directory: %w", err)
	}
	current, err := readCrontab(ctx)
	if err != nil {
		return err
	}
	if _, err := runTool(ctx, strings.NewReader(replaceCronLine(current, line)), "crontab", "-"); err != nil {
		return fmt.Errorf("install crontab: %w", err)
	}
	fmt.Fprintf(deps.Stdout, "installed in your crontab:\n%s\n", line)
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
