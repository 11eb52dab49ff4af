package secondme

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// Endpoint paths of memory.go.
const (
	pathKeyMemorySearch = "/api/secondme/memory/key/search"
	pathSoftMemory      = "/api/secondme/user/softmemory"
	pathKeyMemory       = "/api/secondme/memory/key"
)

// Limits of the memory endpoints.
const (
	// MaxKeyMemoryRunes is the maximum content length of AddKeyMemory.
	MaxKeyMemoryRunes = 5000
	// MaxPageSize is the largest page size the memory searches accept.
	MaxPageSize = 100
)

// MemoryQuery selects a page of memories. Zero PageNo and PageSize mean 1
// and 20.
type MemoryQuery struct {
	Keyword  string
	PageNo   int
	PageSize int
}

// KeyMemoryPage is one page of memories and the total count.
type KeyMemoryPage struct {
	Items []KeyMemory
	Total int
}

// KeyMemory is one remembered fact. Times come from ms epoch values.
type KeyMemory struct {
	ID          int64
	FactActor   string
	FactObject  string
	FactContent string
	MemoryKind  string // shown as returned; no published enum
	Visibility  int
	CreateTime  time.Time
	UpdateTime  time.Time
}

type keyMemoryWire struct {
	ID          flexInt    `json:"id"`
	FactActor   flexString `json:"factActor"`
	FactObject  flexString `json:"factObject"`
	FactContent flexString `json:"factContent"`
	MemoryKind  flexString `json:"memoryKind"`
	Visibility  flexInt    `json:"visibility"`
	CreateTime  flexTime   `json:"createTime"`
	UpdateTime  flexTime   `json:"updateTime"`
}

type memoryPageWire struct {
	List  []keyMemoryWire `json:"list"`
	Items []keyMemoryWire `json:"items"`
	Total flexInt         `json:"total"`
}

// SearchKeyMemory searches the user's Key Memory (scope memory.read).
//
// SecondMe API docs: https://develop-docs.second.me/en/docs/secondme/user
func (c *Client) SearchKeyMemory(ctx context.Context, token string, q MemoryQuery) (*KeyMemoryPage, error) {
	return c.memoryPage(ctx, pathKeyMemorySearch, token, q)
}

// SoftMemory lists the user's soft memory through the legacy
// user/softmemory endpoint (scope user.info.softmemory). Prefer
// SearchKeyMemory; expect a 404 or a scope error on newer apps.
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/secondme
func (c *Client) SoftMemory(ctx context.Context, token string, q MemoryQuery) (*KeyMemoryPage, error) {
	return c.memoryPage(ctx, pathSoftMemory, token, q)
}

func (c *Client) memoryPage(ctx context.Context, path, token string, q MemoryQuery) (*KeyMemoryPage, error) {
	if q.PageNo < 0 {
		return nil, &ValidationError{Field: "pageNo", Problem: "is negative"}
	}
	if q.PageSize < 0 || q.PageSize > MaxPageSize {
		return nil, &ValidationError{Field: "pageSize", Problem: "must be between 1 and " + strconv.Itoa(MaxPageSize)}
	}
	if q.PageNo == 0 {
		q.PageNo = 1
	}
	if q.PageSize == 0 {
		q.PageSize = 20
	}
	v := url.Values{"pageNo": {strconv.Itoa(q.PageNo)}, "pageSize": {strconv.Itoa(q.PageSize)}}
	if q.Keyword != "" {
		v.Set("keyword", q.Keyword)
	}
	var w memoryPageWire
	if _, err := c.do(ctx, c.get(path, token, v), &w); err != nil {
		return nil, err
	}
	list := w.List
	if len(list) == 0 {
		list = w.Items
	}
	page := &KeyMemoryPage{Items: make([]KeyMemory, 0, len(list)), Total: int(w.Total.V)}
	for _, m := range list {
		page.Items = append(page.Items, KeyMemory{
			ID: m.ID.V, FactActor: m.FactActor.V, FactObject: m.FactObject.V, FactContent: m.FactContent.V,
			MemoryKind: m.MemoryKind.V, Visibility: int(m.Visibility.V),
			CreateTime: m.CreateTime.V, UpdateTime: m.UpdateTime.V,
		})
	}
	if !w.Total.Set {
		page.Total = len(page.Items)
	}
	return page, nil
}

// KeyMemoryInput is a fact to remember. Visibility 0 is omitted (server
// default 1 = visible).
type KeyMemoryInput struct {
	Content    string
	Visibility int
}

// AddKeyMemory stores one Key Memory fact (POST memory/key; scope probably
// note.write). Content is required and at most 5,000 characters; a
// *ValidationError is returned before sending otherwise.
//
// SecondMe API docs: https://develop-docs.second.me/en/docs/secondme/user
// (write endpoints: mindverse/second-me-skills skills/secondme/references/key-memory.md)
func (c *Client) AddKeyMemory(ctx context.Context, token string, m KeyMemoryInput) error {
	if isBlank(m.Content) {
		return &ValidationError{Field: "content", Problem: "is required"}
	}
	if n := utf8.RuneCountInString(m.Content); n > MaxKeyMemoryRunes {
		return &ValidationError{Field: "content", Problem: "has " + strconv.Itoa(n) + " characters, more than " + strconv.Itoa(MaxKeyMemoryRunes)}
	}
	if m.Visibility < 0 {
		return &ValidationError{Field: "visibility", Problem: "is negative"}
	}
	body := struct {
		Content    string `json:"content"`
		Visibility int    `json:"visibility,omitempty"`
	}{m.Content, m.Visibility}
	ac := apiCall{method: http.MethodPost, path: pathKeyMemory, token: token, json: body}
	_, err := c.do(ctx, ac, nil)
	return err
}
