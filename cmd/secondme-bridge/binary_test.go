package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The tests that run the real binary as child processes (the crash,
// reload and sharding tests) share one build of it, made on first use and
// removed when the package's tests end.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary the crash tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// bridgeBinary builds the program into a temporary directory, once.
func bridgeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "secondme-bridge-crash-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "secondme-bridge")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freeAddr returns a 127.0.0.1 address that was free a moment ago: one to
// listen on, or one where nothing listens (a refused connection).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
