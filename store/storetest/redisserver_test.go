package storetest

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// A private server: it requires its password, keeps nothing across a
// restart on the same port, refuses connections while stopped, and its
// process is gone once stopped.
func TestRedisServer(t *testing.T) {
	t.Parallel()
	s := NewRedisServer(t, RedisServerOptions{Password: "pw-test"})
	if err := ping(s.Addr); err == nil {
		t.Fatalf("%s answers PING before Start", s.Addr)
	}
	s.Start(t)
	if got, want := s.URL(), "redis://:pw-test@"+s.Addr+"/0"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	client := func(password string) *goredis.Client {
		c := goredis.NewClient(&goredis.Options{Addr: s.Addr, Password: password, MaxRetries: -1, DialTimeout: time.Second})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	if err := client("").Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING without the password = %v, want NOAUTH", err)
	}
	c := client("pw-test")
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET with the password: %v", err)
	}

	pid := s.cmd.Process.Pid
	s.Stop(t)
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("redis-server pid %d after Stop: kill 0 = %v, want ESRCH", pid, err)
	}
	if conn, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		_ = conn.Close()
		t.Fatalf("%s accepts connections after Stop", s.Addr)
	}
	s.Stop(t) // stopping a stopped server does nothing

	s.Start(t)
	if n, err := client("pw-test").Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k after a restart = %d, %v; want 0 (nothing persisted)", n, err)
	}
}

// Two servers of one process never share a port, and every port is free
// when handed out.
func TestFreePortsDiffer(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for range 20 {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] || p < 1024 || p > 65535 {
			t.Fatalf("freePort() = %d, seen before: %v", p, seen[p])
		}
		seen[p] = true
	}
}
