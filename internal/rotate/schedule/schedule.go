// Package schedule writes the daily job that runs `keywarden rotate` (or
// another verb's daily run, `keywarden retire finish`): a systemd user
// service and timer, or a crontab line, quoted so that every argument
// reaches keywarden intact. Plan computes the job from the
// environment alone; Host installs it (the unit files, systemctl, crontab).
package schedule

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Kind is how the job is scheduled.
type Kind string

const (
	Systemd Kind = "systemd" // a user service and timer
	Cron    Kind = "cron"    // a line of the user's crontab
)

func (k Kind) String() string { return string(k) }

// Set reads a kind; "" leaves the choice to the machine (see Plan).
func (k *Kind) Set(s string) error {
	switch Kind(s) {
	case "", Systemd, Cron:
		*k = Kind(s)
		return nil
	}
	return errors.New("want systemd or cron")
}

// DefaultArgs is a daily run that rotates every profile's long-term key once
// it is 90 days old, without asking (no one is there to answer).
var DefaultArgs = []string{"--all-profiles", "--if-older-than", "90d", "--yes"}

// Verb is the keywarden command a job runs daily.
type Verb struct {
	// Name names the job: the keywarden-NAME units, the "# keywarden-NAME"
	// crontab tag, NAME.log, 'keywarden NAME schedule'.
	Name  string
	Words []string // the command after keywarden
	What  string   // what it does, for the units' description
	Args  []string // its arguments when none are given
	// Yes says the command asks before it acts, so an unattended run needs --yes.
	Yes bool
}

var (
	// Rotate is `keywarden rotate`, the default.
	Rotate = Verb{Name: "rotate", Words: []string{"rotate"}, What: "rotate AWS access keys", Args: DefaultArgs, Yes: true}
	// RetireFinish is `keywarden retire finish --all`: each retiring key
	// moved on once a day.
	RetireFinish = Verb{Name: "retire", Words: []string{"retire", "finish"}, What: "retire the access keys nothing uses any more",
		Args: []string{"--all"}}
)

func (v Verb) unit() string { return "keywarden-" + v.Name }
func (v Verb) tag() string  { return "# " + v.unit() }

// Options is the job asked for.
type Options struct {
	Kind Kind      // "": systemd where a user systemd instance runs, else cron
	At   TimeOfDay // local time of the daily run
	Verb Verb      // what runs; zero: Rotate
	Args []string  // the verb's arguments; nil: its Args
	Exe  string    // keywarden's absolute path, which the job runs
}

// Job is a job as it is printed or installed.
type Job struct {
	Kind     Kind
	At       TimeOfDay
	Verb     Verb
	Units    []Unit   // systemd: the service, then the timer
	Line     string   // cron: the tagged crontab line
	LogDir   string   // cron: where the line appends the job's output
	Warnings []string // what would make the unattended job fail later
}

// Unit is one systemd unit file.
type Unit struct{ Path, Text string }

// Plan computes the job o asks for. getenv gives the directories
// (XDG_CONFIG_HOME, XDG_STATE_HOME, HOME); systemdRuns chooses the kind when
// o leaves it open (Host.SystemdRuns). Its errors are the arguments' fault.
func Plan(o Options, getenv func(string) string, systemdRuns bool) (Job, error) {
	if o.Verb.Name == "" {
		o.Verb = Rotate
	}
	if o.Args == nil {
		o.Args = o.Verb.Args
	}
	j := Job{Kind: o.Kind, At: o.At, Verb: o.Verb, Warnings: warnings(o.Verb, o.Exe, o.Args)}
	if j.Kind == "" {
		j.Kind = Cron
		if systemdRuns {
			j.Kind = Systemd
		}
	}
	if j.Kind == Systemd {
		cfg, err := xdgDir(getenv, "XDG_CONFIG_HOME", ".config")
		if err != nil {
			return Job{}, err
		}
		dir := filepath.Join(cfg, "systemd", "user")
		j.Units = []Unit{
			{filepath.Join(dir, o.Verb.unit()+".service"), systemdService(o.Verb, o.Exe, o.Args)},
			{filepath.Join(dir, o.Verb.unit()+".timer"), systemdTimer(o.Verb, o.At)},
		}
		return j, nil
	}
	state, err := xdgDir(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state"))
	if err != nil {
		return Job{}, err
	}
	j.LogDir = filepath.Join(state, "keywarden")
	j.Line, err = cronLine(o.Verb, o.At, o.Exe, o.Args, filepath.Join(j.LogDir, o.Verb.Name+".log"))
	return j, err
}

// xdgDir is the directory $env names, else ~/fallback; a relative value is
// ignored, as the XDG spec says.
func xdgDir(getenv func(string) string, env, fallback string) (string, error) {
	if d := getenv(env); filepath.IsAbs(d) {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("find the home directory for %s: $HOME is not defined", fallback)
	}
	return filepath.Join(home, fallback), nil
}

// warnings are the reasons a job would fail later, unattended.
func warnings(v Verb, exe string, args []string) []string {
	var w []string
	if isTempBuild(exe) {
		w = append(w, fmt.Sprintf("warning: %s is a temporary build (go run or go test); the job will fail once it is removed", exe),
			"hint: install keywarden (go install github.com/keywarden/keywarden/cmd/keywarden@latest) and schedule that binary")
	}
	if v.Yes && !slices.Contains(args, "--yes") && !slices.Contains(args, "-y") {
		w = append(w, fmt.Sprintf("warning: %s ARGS lack --yes; no one can answer %s's questions in a scheduled run", strings.ToUpper(v.Name), v.Name))
	}
	return w
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

// Print writes the job to out as it would be installed, and to hints how
// to install it.
func (j Job) Print(out, hints io.Writer) {
	if j.Kind == Cron {
		fmt.Fprintln(out, j.Line)
		fmt.Fprintf(hints, "hint: 'keywarden %s schedule --kind cron --install' adds it to your crontab (and creates %s)\n", j.Verb.Name, j.LogDir)
		return
	}
	for i, u := range j.Units {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "# %s\n%s", u.Path, u.Text)
	}
	fmt.Fprintf(hints, "hint: 'keywarden %s schedule --install' writes these files and starts the timer\n", j.Verb.Name)
}
