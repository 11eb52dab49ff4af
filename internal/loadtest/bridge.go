package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// bridgeProc is the running secondme-bridge binary.
type bridgeProc struct {
	admin  string // the admin listener: /metrics, /debug/pprof/
	cmd    *exec.Cmd
	logs   *logBuffer
	exited chan error
}

// startBridge writes the config and starts the binary, then waits for
// /readyz to answer 200.
func startBridge(ctx context.Context, cfg Config, f *fakes, dir, prefix string) (*bridgeProc, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	addr, admin := addrs[0], addrs[1]
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(configYAML(cfg, f, dir, addr, admin, prefix)), 0o600); err != nil {
		return nil, fmt.Errorf("loadtest: write config: %w", err)
	}
	b := &bridgeProc{admin: admin, logs: &logBuffer{}, exited: make(chan error, 1)}
	b.cmd = exec.Command(cfg.Binary, "serve", "--config", path)
	b.cmd.Env = append(os.Environ(), f.caEnv()...)
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadtest: start %s: %w", cfg.Binary, err)
	}
	go func() { b.exited <- b.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-b.exited:
			b.exited <- err
			return nil, fmt.Errorf("loadtest: the bridge exited at start: %v\n%s", err, b.logs.tail(40))
		default:
		}
		if readyz(ctx, "http://"+addr+"/readyz") {
			return b, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.stop()
			return nil, fmt.Errorf("loadtest: the bridge was not ready in 30 s\n%s", b.logs.tail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readyz(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop kills the bridge (the run is over; nothing of it is kept) and
// waits for it.
func (b *bridgeProc) stop() {
	_ = b.cmd.Process.Kill()
	err := <-b.exited
	b.exited <- err
}

// freeAddrs returns n distinct free addresses on 127.0.0.1. Every
// listener stays open until all n are chosen: one closed before the next
// is asked for can hand out the same port twice, and the bridge refuses
// an admin listener on its public port.
func freeAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("loadtest: free port: %w", err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// logBuffer keeps the bridge's output for error reports.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 4<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

// tail returns the last n lines.
func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(l.b.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
