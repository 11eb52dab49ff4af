package attach

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// fileServer serves test files on 127.0.0.1 and counts requests.
func fileServer(t *testing.T, wantAuth string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/notes.md", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if wantAuth != "" && r.Header.Get("Authorization") != wantAuth {
			http.Error(w, "no auth", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("# Notes\nhello 世界"))
	})
	mux.HandleFunc("/big.txt", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(strings.Repeat("é", 100)))
	})
	mux.HandleFunc("/binary.json", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte{'{', 0, 0xff, '}'})
	})
	mux.HandleFunc("/moved.md", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("/photo.png", func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestReadKindsBoundsAndHosts(t *testing.T) {
	t.Parallel()
	srv, hits := fileServer(t, "Bearer xoxb-secret")
	host := strings.TrimPrefix(srv.URL, "http://")
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the foreign host was contacted")
	}))
	t.Cleanup(foreign.Close)
	r := &Reader{
		Hosts: []string{host}, AllowHTTP: true, MaxBytes: 51,
		Header: http.Header{"Authorization": {"Bearer xoxb-secret"}},
	}
	got := r.Read(t.Context(), []File{
		{Name: "notes.md", ContentType: "application/octet-stream", Size: 20, URL: srv.URL + "/notes.md"},
		{Name: "big.txt", ContentType: "text/plain; charset=utf-8", Size: 200, URL: srv.URL + "/big.txt"},
		{Name: "photo.png", ContentType: "image/png", Size: 5, URL: srv.URL + "/photo.png"},
		{Name: "evil.txt", ContentType: "text/plain", URL: foreign.URL + "/evil.txt"},
		{Name: "plain.txt", ContentType: "text/plain", URL: "https://user:pw@" + host + "/notes.md"},
		{Name: "bin.json", ContentType: "application/json", URL: srv.URL + "/binary.json"},
		{Name: "moved.md", URL: srv.URL + "/moved.md?to=" + url.QueryEscape(foreign.URL+"/x.md")},
		{Name: "moved-home.md", URL: srv.URL + "/moved.md?to=" + url.QueryEscape(srv.URL+"/notes.md")},
	})
	want := []struct {
		text    string
		cut     bool
		notRead platforms.NotReadReason
	}{
		{"# Notes\nhello 世界", false, ""},
		{strings.Repeat("é", 25), true, ""}, // 51 bytes cut to 50: no half character
		{"", false, platforms.NotReadType},
		{"", false, platforms.NotReadHost},
		{"", false, platforms.NotReadHost},
		{"", false, platforms.NotReadFailed},
		{"", false, platforms.NotReadHost},
		{"# Notes\nhello 世界", false, ""}, // the header follows a redirect on the same host
	}
	if len(got) != len(want) {
		t.Fatalf("got %d attachments", len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Text != w.text || g.Truncated != w.cut || g.NotRead != w.notRead {
			t.Errorf("%s: text %q cut %v notRead %q; want %q %v %q", g.Name, g.Text, g.Truncated, g.NotRead, w.text, w.cut, w.notRead)
		}
	}
	if got[1].Size != 200 || got[0].ContentType != "application/octet-stream" {
		t.Errorf("metadata not kept: %+v", got[:2])
	}
	if n := hits.Load(); n != 6 { // the image and the refused hosts are never fetched
		t.Errorf("requests = %d, want 6", n)
	}
}

func TestReadLimitAndHTTPS(t *testing.T) {
	t.Parallel()
	srv, _ := fileServer(t, "")
	host := strings.TrimPrefix(srv.URL, "http://")
	files := []File{{Name: "a.md", URL: srv.URL + "/notes.md"}, {Name: "b.md", URL: srv.URL + "/notes.md"}}
	got := (&Reader{Hosts: []string{host}, AllowHTTP: true, MaxFiles: 1}).Read(t.Context(), files)
	if got[0].NotRead != "" || got[1].NotRead != platforms.NotReadLimit {
		t.Errorf("limit: %+v", got)
	}
	// Without AllowHTTP a plain http URL is refused.
	got = (&Reader{Hosts: []string{host}}).Read(t.Context(), files[:1])
	if got[0].NotRead != platforms.NotReadHost {
		t.Errorf("http without AllowHTTP: %+v", got)
	}
}

func TestIsText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, ct string
		want     bool
	}{
		{"a.txt", "", true}, {"README.md", "", true}, {"data.csv", "text/csv", true}, {"x.json", "application/json", true},
		{"main.go", "application/octet-stream", true}, {"Dockerfile", "", true}, {"page", "text/html; charset=utf-8", true},
		{"photo.png", "image/png", false}, {"fake.txt", "image/png", false}, {"doc.pdf", "application/pdf", false},
		{"a.zip", "application/zip", false}, {"voice.ogg", "audio/ogg", false}, {"noext", "", false},
	} {
		if got := IsText(c.name, c.ct); got != c.want {
			t.Errorf("IsText(%q, %q) = %v", c.name, c.ct, got)
		}
	}
}
