package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/rotate/schedule"
)

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
	var install bool
	opts := schedule.Options{At: schedule.TimeOfDay{Hour: 3, Minute: 17}}
	cmd := &cobra.Command{
		Use:     "schedule [--install] [--kind systemd|cron] [--at HH:MM] [-- ROTATE ARGS...]",
		Short:   "Print or install a daily job that runs keywarden rotate",
		Long:    scheduleLong,
		Example: scheduleExample,
		// ROTATE ARGS must follow --, so that rotate's flags are not taken for schedule's own.
		Args: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash != 0 && len(args) > 0 {
				return usageErr(fmt.Errorf("unexpected argument %q: put rotate's arguments after --", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.Args = args
			}
			return runSchedule(cmd.Context(), opts, install, deps)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&install, "install", false, "install the job instead of printing it")
	f.Var(engineFlag{&opts.Kind, "kind"}, "kind", "systemd or cron (default: systemd where a user systemd instance runs, else cron)")
	f.Var(engineFlag{&opts.At, "HH:MM"}, "at", "local time of day to run (off the hour, away from everyone else's jobs)")
	return cmd
}

func runSchedule(ctx context.Context, opts schedule.Options, install bool, deps Deps) error {
	exe, err := deps.Executable()
	if err == nil {
		opts.Exe, err = filepath.Abs(exe)
	}
	if err != nil {
		return fmt.Errorf("find keywarden's own path for the job: %w", err)
	}
	host := schedule.Host{Getenv: deps.Getenv, Out: deps.Stdout}
	job, err := schedule.Plan(opts, deps.Getenv, opts.Kind == "" && host.SystemdRuns())
	if err != nil {
		return usageErr(err)
	}
	for _, w := range job.Warnings {
		fmt.Fprintln(deps.Stderr, w)
	}
	if !install {
		job.Print(deps.Stdout, deps.Stderr)
		return nil
	}
	err = host.Install(ctx, job)
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return withHint(err, h.Hint())
	}
	return err
}

// engineFlag is an engine's flag.Value (Set and String) with the type name
// pflag shows in help.
type engineFlag struct {
	flag.Value
	typ string
}

func (f engineFlag) Type() string { return f.typ }
