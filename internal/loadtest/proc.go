package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux this runs on).
const clockTicks = 100

// procCPU returns the CPU time (user + system) process pid has used, from
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces: fields count from ')'.
	s := string(raw)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("read cpu of %d: malformed stat %q", pid, s)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu of %d: short stat %q", pid, s)
	}
	// f[0] is field 3 (state): utime is field 14, stime 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu of %d: bad utime/stime in %q", pid, s)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// memUse is a process's resident memory, in bytes, from /proc/PID/status:
// all of it (VmRSS), its anonymous part (RssAnon: heaps, stacks) and its
// file-backed part (RssFile: the binary's pages, and the bolt store's
// memory-mapped file, page cache the kernel can reclaim).
type memUse struct{ rss, anon, file int64 }

// procMem returns the resident memory of pid.
func procMem(pid int) (memUse, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memUse{}, fmt.Errorf("read rss of %d: %w", pid, err)
	}
	m, err := parseMem(string(raw))
	if err != nil {
		return memUse{}, fmt.Errorf("read rss of %d: %w", pid, err)
	}
	return m, nil
}

// parseMem reads the VmRSS, RssAnon and RssFile lines of a
// /proc/PID/status file.
func parseMem(status string) (memUse, error) {
	m := memUse{rss: -1, anon: -1, file: -1}
	found := 0
	for line := range strings.Lines(status) {
		name, v, ok := strings.Cut(line, ":")
		var dst *int64
		switch {
		case !ok:
			continue
		case name == "VmRSS":
			dst = &m.rss
		case name == "RssAnon":
			dst = &m.anon
		case name == "RssFile":
			dst = &m.file
		default:
			continue
		}
		v, ok = strings.CutSuffix(strings.TrimSpace(v), " kB")
		kb, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || kb < 0 {
			return memUse{}, fmt.Errorf("malformed status line %q", strings.TrimSpace(line))
		}
		if *dst >= 0 {
			return memUse{}, fmt.Errorf("status line %q repeated", name)
		}
		*dst = kb << 10
		found++
	}
	if found != 3 {
		return memUse{}, fmt.Errorf("status has %d of the VmRSS, RssAnon and RssFile lines", found)
	}
	return m, nil
}

// procRSS returns the resident set size of pid in bytes (VmRSS).
func procRSS(pid int) (int64, error) {
	m, err := procMem(pid)
	return m.rss, err
}

// rssPeak samples the resident memory of pid every interval until
// stopped, keeping the sample of the highest RSS.
type rssPeak struct {
	mu   sync.Mutex
	peak memUse
	stop chan struct{}
	done chan struct{}
}

func watchRSS(pid int, every time.Duration) *rssPeak {
	p := &rssPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := procMem(pid); err == nil {
				p.mu.Lock()
				if m.rss > p.peak.rss {
					p.peak = m
				}
				p.mu.Unlock()
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// Stop ends the sampling and returns the peak RSS.
func (p *rssPeak) Stop() int64 {
	return p.StopMem().rss
}

// StopMem ends the sampling and returns the sample of the peak RSS.
func (p *rssPeak) StopMem() memUse {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// selfCPU is the CPU time (user + system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
