//go:build !linux

package storetest

import "syscall"

// serverProcAttr: outside Linux a private redis-server is stopped by the
// test's cleanup only.
func serverProcAttr() *syscall.SysProcAttr { return nil }
