package storetest

import "syscall"

// serverProcAttr asks Linux to SIGKILL a private redis-server if the test
// binary dies without running its cleanups (a timeout's panic, a kill), so
// none is left behind. The signal follows the thread that started the
// server, and the Go runtime ends threads only for goroutines that exit
// locked to theirs, which these tests do not.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
