package awstest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the server in its own process group, so stop can end
// every process it forked, and has the kernel kill it if the test binary dies
// without running awstest.Main's cleanup.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func terminate(cmd *exec.Cmd, force bool) {
	sig := syscall.SIGTERM
	if force {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}
