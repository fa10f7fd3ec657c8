//go:build !linux

package awstest

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

func terminate(cmd *exec.Cmd, force bool) { cmd.Process.Kill() }
