package slack

import (
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rejectLogInterval is the least time between two "slack requests
// rejected" summary lines.
const rejectLogInterval = time.Minute

// rejectLog turns rejected Slack requests (bad or missing signature, stale
// timestamp, oversized body) into one summary line per interval instead of
// one warning each: anyone on the internet can post to the Slack routes,
// and a flood of forged requests must not flood the logs. The first
// rejection after a quiet interval is logged at once; the ones that follow
// within the interval are counted and logged together when it ends. Safe
// for concurrent use.
type rejectLog struct {
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	open    bool           // an interval is running (a flush is scheduled)
	total   int            // rejections counted since the last line
	reasons map[string]int // reason → count since the last line
	paths   map[string]int // path → count since the last line
}

func newRejectLog(log *slog.Logger, interval time.Duration) *rejectLog {
	return &rejectLog{log: log, interval: interval, reasons: map[string]int{}, paths: map[string]int{}}
}

// add counts one rejection; it never blocks on I/O other than the logger.
func (l *rejectLog) add(path, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	l.reasons[reason]++
	if knownPath(path) {
		l.paths[path]++
	} else {
		l.paths["other"]++
	}
	if l.open {
		return
	}
	l.emitLocked()
	l.open = true
	time.AfterFunc(l.interval, l.tick)
}

// tick ends an interval: it logs what was counted during it and, if there
// was anything, keeps the window open for one more interval.
func (l *rejectLog) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total == 0 {
		l.open = false
		return
	}
	l.emitLocked()
	time.AfterFunc(l.interval, l.tick)
}

func (l *rejectLog) emitLocked() {
	l.log.Warn("slack requests rejected (not signed with the signing secret, stale or oversized)",
		"count", l.total, "reasons", summary(l.reasons), "paths", summary(l.paths),
		"interval", l.interval)
	l.total = 0
	clear(l.reasons)
	clear(l.paths)
}

// knownPath keeps attacker-chosen paths out of the log (and the map small).
func knownPath(p string) bool {
	return p == PathEvents || p == PathCommands || p == PathInteractivity
}

// summary renders counts as "a=2,b=1", sorted by key.
func summary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(m[k]))
	}
	return b.String()
}
