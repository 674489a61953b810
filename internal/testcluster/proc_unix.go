//go:build unix

package testcluster

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup runs the command in its own process group and makes
// context cancellation kill the whole group (bash, go build, kwokctl ...),
// not only bash.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
