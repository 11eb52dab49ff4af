package storetest

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
)

// How long a private redis-server may take to answer PING after it is
// started, and to exit after SIGTERM (before SIGKILL). Generous: CI runs
// the tests under -race on two shared cores.
const (
	serverUpTimeout   = 10 * time.Second
	serverStopTimeout = 10 * time.Second
)

// RedisServerOptions tune NewRedisServer. The zero value is ready to use.
type RedisServerOptions struct {
	// Password, when set, is the server's requirepass: clients must
	// AUTH with it (a URL redis://:Password@Addr).
	Password string
}

// RedisServer is a private redis-server process of one test, on a
// 127.0.0.1 port of its own, for the tests in which a server must be
// down, go away or come back: the shared Redis at RedisURL is never
// stopped. It keeps nothing on disk (--save "" --appendonly no), so each
// Start begins empty. Its methods are called from the test's goroutine.
type RedisServer struct {
	// Addr is 127.0.0.1:port, the same for every Start.
	Addr string

	opts RedisServerOptions
	bin  string
	dir  string
	log  testutil.SyncBuffer // every run's output
	runs int

	mu     sync.Mutex
	cmd    *exec.Cmd     // nil when stopped
	exited chan struct{} // closed when cmd has exited
}

// NewRedisServer prepares a private redis-server on a free port without
// starting it (its Addr refuses connections until Start), and stops it
// when t ends. It runs redis-server from PATH; when there is none it
// skips t, or fails it under CI=true (where .ci/run installs it), as
// RequireRedis does. When t fails, the server's output is logged.
//
// The port is below the kernel's ephemeral range, so that no outgoing
// connection is given it while the server is down; a test's Start on
// the same port then finds it free (unless another process began
// listening on it meanwhile, which Start reports).
func NewRedisServer(t testing.TB, o RedisServerOptions) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipUnlessCI(t, "redis-server is not on PATH ("+err.Error()+"); install it (Debian: apt-get install redis-server) to run this test")
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("find a free port for redis-server: %v", err)
	}
	s := &RedisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), opts: o, bin: bin, dir: t.TempDir()}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop redis-server on %s: %v", s.Addr, err)
		}
		if t.Failed() {
			t.Logf("redis-server on %s logged:\n%s", s.Addr, s.log.String())
		}
	})
	return s
}

// StartRedisServer is NewRedisServer then Start.
func StartRedisServer(t testing.TB, o RedisServerOptions) *RedisServer {
	t.Helper()
	s := NewRedisServer(t, o)
	s.Start(t)
	return s
}

// URL is the server's Redis URL, database 0, with the password if any.
func (s *RedisServer) URL() string {
	if s.opts.Password != "" {
		return "redis://:" + s.opts.Password + "@" + s.Addr + "/0"
	}
	return "redis://" + s.Addr + "/0"
}

// Start starts the server on Addr and waits until it answers PING; it
// fails t, with the server's output, if it exits or does not answer
// within 10 s (the output is logged when t ends). Starting a running
// server fails t.
func (s *RedisServer) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		if stopErr := s.stop(); stopErr != nil {
			err = fmt.Errorf("%w (then: %w)", err, stopErr)
		}
		t.Fatalf("start redis-server on %s: %v (its output is logged below)", s.Addr, err)
	}
}

// Stop sends the server SIGTERM and waits for it to exit (SIGKILL after
// 10 s); its port then refuses connections. Stopping a stopped server
// does nothing.
func (s *RedisServer) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("stop redis-server on %s: %v (its output is logged below)", s.Addr, err)
	}
}

func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--logfile", "",
	}
	if s.opts.Password != "" {
		args = append(args, "--requirepass", s.opts.Password)
	}
	s.runs++
	fmt.Fprintf(&s.log, "--- start %d: redis-server --port %s\n", s.runs, port)
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	cmd.SysProcAttr = serverProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(&s.log, "--- redis-server (pid %d) exited: %v\n", cmd.Process.Pid, err)
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	return waitPong(s.Addr, exited, serverUpTimeout)
}

func (s *RedisServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal pid %d: %w", cmd.Process.Pid, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(serverStopTimeout):
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill pid %d: %w", cmd.Process.Pid, err)
	}
	<-exited
	return fmt.Errorf("pid %d still running %v after SIGTERM; killed", cmd.Process.Pid, serverStopTimeout)
}

// waitPong polls addr with an inline PING until a Redis answers (+PONG,
// or -NOAUTH from a server with a password), the process exits, or
// timeout passes.
func waitPong(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited before answering PING (last try: %w)", last)
		default:
		}
		if last = ping(addr); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %v: %w", timeout, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
}

// usedPorts holds the ports this process has handed out, so two tests
// never share one.
var (
	usedPortsMu sync.Mutex
	usedPorts   = map[int]bool{}
)

// freePort returns a port no one listens on at 127.0.0.1, chosen at
// random below the ephemeral range (10000 up to its start), or one the
// kernel picks if that range is too narrow or all tries are taken.
func freePort() (int, error) {
	usedPortsMu.Lock()
	defer usedPortsMu.Unlock()
	const low = 10000
	if high := ephemeralStart(); high-low >= 1000 {
		for range 100 {
			p := low + rand.IntN(high-low)
			if !usedPorts[p] && canListen(p) {
				usedPorts[p] = true
				return p, nil
			}
		}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, err
		}
		if !usedPorts[p] {
			usedPorts[p] = true
			return p, nil
		}
	}
	return 0, errors.New("no free port after 100 tries")
}

func canListen(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// ephemeralStart is the first port of Linux's ephemeral range, or the
// IANA one (49152) where that cannot be read.
func ephemeralStart() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 49152
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 1024 || n > 65535 {
		return 49152
	}
	return n
}
