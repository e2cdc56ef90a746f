package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the plugin when the server's thread that started it
// dies, even by SIGKILL; the SDK also exits a plugin whose parent is gone.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
