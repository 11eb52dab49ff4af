package loadtest

import (
	"os"
	"strings"
	"testing"
)

func TestParseMem(t *testing.T) {
	t.Parallel()
	good := "Name:\tsecondme-bridge\nVmPeak:\t  900 kB\nVmRSS:\t   12288 kB\nRssAnon:\t    8192 kB\nRssFile:\t    4096 kB\nRssShmem:\t       0 kB\n"
	m, err := parseMem(good)
	if err != nil {
		t.Fatal(err)
	}
	if m != (memUse{rss: 12288 << 10, anon: 8192 << 10, file: 4096 << 10}) {
		t.Errorf("parseMem = %+v", m)
	}
	for name, status := range map[string]string{
		"empty":          "",
		"no RssFile":     "VmRSS:\t1 kB\nRssAnon:\t1 kB\n",
		"not a number":   "VmRSS:\tlots kB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
		"no unit":        "VmRSS:\t1\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
		"negative":       "VmRSS:\t-1 kB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
		"repeated":       "VmRSS:\t1 kB\nVmRSS:\t2 kB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
		"binary garbage": "VmRSS:\x00\xff kB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
	} {
		if m, err := parseMem(status); err == nil {
			t.Errorf("%s: parseMem = %+v, want an error", name, m)
		}
	}
}

// The split is read from this very process: anonymous and file-backed
// memory are both resident, and together no more than its RSS.
func TestProcMemOfSelf(t *testing.T) {
	t.Parallel()
	m, err := procMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.anon <= 0 || m.file <= 0 || m.anon+m.file > m.rss {
		t.Errorf("procMem = %+v, want anon and file > 0 and their sum ≤ rss", m)
	}
	if _, err := procMem(1 << 30); err == nil || !strings.Contains(err.Error(), "read rss") {
		t.Errorf("procMem of no process: %v, want an error", err)
	}
}

// TestFreeAddrsAreDistinct: the bridge's public and admin listeners come
// from one call, and no call hands out a port twice (a port closed before
// the next was asked for came back as the next, and the bridge refused to
// start).
func TestFreeAddrsAreDistinct(t *testing.T) {
	for range 200 {
		addrs, err := freeAddrs(2)
		if err != nil {
			t.Fatal(err)
		}
		if len(addrs) != 2 || addrs[0] == addrs[1] {
			t.Fatalf("freeAddrs(2) = %q, want two distinct addresses", addrs)
		}
	}
}
