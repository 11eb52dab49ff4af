package secondme_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestSearchKeyMemory(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	created := time.UnixMilli(1705315800000).UTC()
	mems := []secondme.KeyMemory{
		{ID: 12345, FactActor: "User", FactObject: "Hobbies", FactContent: "Enjoys reading science fiction", MemoryKind: "preference", Visibility: 1, CreateTime: created, UpdateTime: created},
		{ID: 12346, FactActor: "User", FactObject: "Work", FactContent: "Writes Go", Visibility: 1, CreateTime: created, UpdateTime: created},
	}
	s.AddUser(secondmetest.User{ID: "42", KeyMemories: mems})
	tok := s.IssueToken("42").AccessToken
	page, err := c.SearchKeyMemory(t.Context(), tok, secondme.MemoryQuery{Keyword: "reading"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&secondme.KeyMemoryPage{Items: mems[:1], Total: 1}, page); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	q := s.RequestsTo(secondmetest.PathKeyMemorySearch)[0].Query
	if diff := cmp.Diff(url.Values{"keyword": {"reading"}, "pageNo": {"1"}, "pageSize": {"20"}}, q); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	page, err = c.SearchKeyMemory(t.Context(), tok, secondme.MemoryQuery{PageNo: 2, PageSize: 1})
	if err != nil || page.Total != 2 || len(page.Items) != 1 || page.Items[0].ID != 12346 {
		t.Errorf("page 2: %+v, %v", page, err)
	}
}

func TestMemoryTimesAndShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want secondme.KeyMemoryPage
	}{
		{"ms numbers", `{"list":[{"id":1,"createTime":1705315800000,"updateTime":1705315800123}],"total":1}`,
			secondme.KeyMemoryPage{Total: 1, Items: []secondme.KeyMemory{{ID: 1, CreateTime: time.UnixMilli(1705315800000).UTC(), UpdateTime: time.UnixMilli(1705315800123).UTC()}}}},
		{"ms strings and seconds", `{"list":[{"id":"2","createTime":"1705315800000","updateTime":1705315800}]}`,
			secondme.KeyMemoryPage{Total: 1, Items: []secondme.KeyMemory{{ID: 2, CreateTime: time.UnixMilli(1705315800000).UTC(), UpdateTime: time.Unix(1705315800, 0).UTC()}}}},
		{"iso and empty", `{"items":[{"id":3,"createTime":"2024-01-20T15:30:00Z","updateTime":""}],"total":9}`,
			secondme.KeyMemoryPage{Total: 9, Items: []secondme.KeyMemory{{ID: 3, CreateTime: time.Date(2024, 1, 20, 15, 30, 0, 0, time.UTC)}}}},
		{"empty", `{}`, secondme.KeyMemoryPage{Items: []secondme.KeyMemory{}}},
	}
	for _, tc := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		s.QueueResponse(secondmetest.PathSoftMemory, secondmetest.Response{Body: `{"code":0,"data":` + tc.data + `}`})
		got, err := c.SoftMemory(t.Context(), tok, secondme.MemoryQuery{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(&tc.want, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestSoftMemory(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	s.AddUser(secondmetest.User{ID: "42", KeyMemories: []secondme.KeyMemory{{FactObject: "兴趣爱好", FactContent: "喜欢阅读科幻小说"}}}, "user.info.softmemory")
	tok := s.IssueToken("42").AccessToken
	page, err := c.SoftMemory(t.Context(), tok, secondme.MemoryQuery{Keyword: "阅读", PageSize: 100})
	if err != nil || len(page.Items) != 1 || page.Items[0].FactContent != "喜欢阅读科幻小说" {
		t.Fatalf("SoftMemory = %+v, %v", page, err)
	}
	if q := s.RequestsTo(secondmetest.PathSoftMemory)[0].Query; q.Get("pageSize") != "100" || q.Get("keyword") != "阅读" {
		t.Errorf("query %v", q)
	}
	// Older apps: a 404 is classified.
	s.QueueResponse(secondmetest.PathSoftMemory, secondmetest.DetailResponse(404, "Not Found"))
	if _, err := c.SoftMemory(t.Context(), tok, secondme.MemoryQuery{}); !secondme.IsNotFound(err) {
		t.Errorf("404: %v", err)
	}
}

func TestMemoryQueryValidation(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	for _, q := range []secondme.MemoryQuery{{PageNo: -1}, {PageSize: -1}, {PageSize: 101}} {
		_, err := c.SearchKeyMemory(t.Context(), tok, q)
		var ve *secondme.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%+v: err = %v", q, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestAddKeyMemory(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	if err := c.AddKeyMemory(t.Context(), tok, secondme.KeyMemoryInput{Content: "Likes tea"}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("好", secondme.MaxKeyMemoryRunes)
	if err := c.AddKeyMemory(t.Context(), tok, secondme.KeyMemoryInput{Content: long, Visibility: 2}); err != nil {
		t.Fatal(err)
	}
	reqs := s.RequestsTo(secondmetest.PathKeyMemory)
	if diff := cmp.Diff(map[string]any{"content": "Likes tea"}, reqs[0].JSON); diff != "" {
		t.Errorf("body 1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"content": long, "visibility": float64(2)}, reqs[1].JSON); diff != "" {
		t.Errorf("body 2 differs")
	}
	if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" || reqs[0].Method != "POST" {
		t.Errorf("%s %s", reqs[0].Method, ct)
	}
	mems := s.KeyMemories("42")
	if len(mems) != 2 || mems[0].FactContent != "Likes tea" || mems[0].Visibility != 1 || mems[1].Visibility != 2 {
		t.Errorf("stored %+v", mems)
	}
	for name, in := range map[string]secondme.KeyMemoryInput{
		"empty":    {Content: " \n"},
		"too long": {Content: long + "!"},
		"negative": {Content: "x", Visibility: -1},
	} {
		var ve *secondme.ValidationError
		if err := c.AddKeyMemory(t.Context(), tok, in); !errors.As(err, &ve) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := len(s.RequestsTo(secondmetest.PathKeyMemory)); n != 2 {
		t.Errorf("%d requests sent, want 2", n)
	}
	s.QueueResponse(secondmetest.PathKeyMemory, secondmetest.ErrorResponse(400, "memory.content.required", "content required"))
	var ae *secondme.APIError
	if err := c.AddKeyMemory(t.Context(), tok, secondme.KeyMemoryInput{Content: "x"}); !errors.As(err, &ae) || ae.SubCode != "memory.content.required" {
		t.Errorf("server error: %v", err)
	}
}
