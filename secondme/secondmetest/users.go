package secondmetest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// User is a fake SecondMe user: profile and data.
type User struct {
	ID                  string // required by AddUser
	AppScopedUserID     string // default "asu_" + ID
	Name                string
	Email               string
	Avatar              string
	Bio                 string
	SelfIntroduction    string
	Route               string
	VoiceID             string
	ProfileCompleteness int
	Shades              []secondme.Shade
	KeyMemories         []secondme.KeyMemory // initial Key Memory (IDs assigned when 0)
}

type userState struct {
	u      User
	scopes []string
	notes  []secondme.Note
}

// AddUser adds (or replaces) a user with the granted scopes; no scopes
// means DefaultScopes. It panics on an empty ID.
func (s *Server) AddUser(u User, scopes ...string) {
	if u.ID == "" {
		panic("secondmetest: AddUser needs an ID")
	}
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(u, scopes)
}

func (s *Server) addUserLocked(u User, scopes []string) {
	if u.AppScopedUserID == "" {
		u.AppScopedUserID = "asu_" + u.ID
	}
	u.Shades = slices.Clone(u.Shades)
	u.KeyMemories = slices.Clone(u.KeyMemories)
	for i := range u.KeyMemories {
		if u.KeyMemories[i].ID == 0 {
			u.KeyMemories[i].ID = s.nextID()
		}
	}
	s.users[u.ID] = &userState{u: u, scopes: slices.Clone(scopes)}
}

// ensureUserLocked returns the ID of an existing user, creating it with a
// default profile when unknown ("" means DefaultUserID).
func (s *Server) ensureUserLocked(id string) string {
	if id == "" {
		id = DefaultUserID
	}
	if s.users[id] == nil {
		s.addUserLocked(User{ID: id, Name: "User " + id}, DefaultScopes)
	}
	return id
}

// SetScopes replaces the user's granted scopes; every token of the user is
// checked against them from now on.
func (s *Server) SetScopes(userID string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[s.ensureUserLocked(userID)].scopes = slices.Clone(scopes)
}

// User returns a snapshot of the user, KeyMemories included.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.users[id]
	if st == nil {
		return User{}, false
	}
	u := st.u
	u.Shades = slices.Clone(u.Shades)
	u.KeyMemories = slices.Clone(u.KeyMemories)
	return u, true
}

// KeyMemories returns the user's Key Memory, initial and written.
func (s *Server) KeyMemories(userID string) []secondme.KeyMemory {
	u, _ := s.User(userID)
	return u.KeyMemories
}

// Notes returns the notes written through note/add.
func (s *Server) Notes(userID string) []secondme.Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.users[userID]; st != nil {
		return slices.Clone(st.notes)
	}
	return nil
}

func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r, "userinfo", "user.info")
	if !ok {
		return
	}
	u, _ := s.User(uid)
	writeOK(w, map[string]any{
		"userId": u.ID, "name": u.Name, "email": u.Email, "avatar": u.Avatar, "bio": u.Bio,
		"selfIntroduction": u.SelfIntroduction, "profileCompleteness": u.ProfileCompleteness,
		"route": u.Route, "voiceId": u.VoiceID,
	})
}

func (s *Server) handleAuthMe(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	u, _ := s.User(uid)
	writeOK(w, map[string]any{"appScopedUserId": u.AppScopedUserID})
}

func (s *Server) handleUserShades(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r, "userinfo", "user.info.shades", "user.info")
	if !ok {
		return
	}
	u, _ := s.User(uid)
	shades := make([]map[string]any, 0, len(u.Shades))
	for _, sh := range u.Shades {
		shades = append(shades, map[string]any{
			"id": sh.ID, "shadeName": sh.Name, "shadeIcon": sh.Icon, "confidenceLevel": sh.ConfidenceLevel,
			"shadeDescription": sh.Description, "shadeDescriptionThirdView": sh.DescriptionThirdView,
			"shadeContent": sh.Content, "shadeContentThirdView": sh.ContentThirdView, "sourceTopics": sh.SourceTopics,
			"shadeNamePublic": sh.NamePublic, "shadeIconPublic": sh.IconPublic, "confidenceLevelPublic": sh.ConfidenceLevelPublic,
			"shadeDescriptionPublic": sh.DescriptionPublic, "shadeDescriptionThirdViewPublic": sh.DescriptionThirdViewPublic,
			"shadeContentPublic": sh.ContentPublic, "shadeContentThirdViewPublic": sh.ContentThirdViewPublic,
			"sourceTopicsPublic": sh.SourceTopicsPublic, "hasPublicContent": sh.HasPublicContent,
		})
	}
	writeOK(w, map[string]any{"shades": shades})
}

func (s *Server) handleKeyMemorySearch(w http.ResponseWriter, r *http.Request) {
	s.memoryPage(w, r, true, "memory.read")
}

func (s *Server) handleSoftMemory(w http.ResponseWriter, r *http.Request) {
	s.memoryPage(w, r, false, "user.info.softmemory", "memory.read")
}

func (s *Server) memoryPage(w http.ResponseWriter, r *http.Request, full bool, scopes ...string) {
	uid, ok := s.authenticate(w, r, scopes...)
	if !ok {
		return
	}
	q := r.URL.Query()
	pageNo, pageSize := 1, 20
	var err error
	if v := q.Get("pageNo"); v != "" {
		if pageNo, err = strconv.Atoi(v); err != nil || pageNo < 1 {
			s.writeErr(w, http.StatusBadRequest, "invalid.param", "pageNo must be >= 1")
			return
		}
	}
	if v := q.Get("pageSize"); v != "" {
		if pageSize, err = strconv.Atoi(v); err != nil || pageSize < 1 || pageSize > secondme.MaxPageSize {
			s.writeErr(w, http.StatusBadRequest, "invalid.param", "pageSize must be 1.."+strconv.Itoa(secondme.MaxPageSize))
			return
		}
	}
	kw := strings.ToLower(q.Get("keyword"))
	var hits []secondme.KeyMemory
	for _, m := range s.KeyMemories(uid) {
		if kw == "" || strings.Contains(strings.ToLower(m.FactActor+"\n"+m.FactObject+"\n"+m.FactContent), kw) {
			hits = append(hits, m)
		}
	}
	list := []map[string]any{}
	for i := (pageNo - 1) * pageSize; i < len(hits) && i < pageNo*pageSize; i++ {
		m := hits[i]
		item := map[string]any{
			"id": m.ID, "factObject": m.FactObject, "factContent": m.FactContent,
			"createTime": m.CreateTime.UnixMilli(), "updateTime": m.UpdateTime.UnixMilli(),
		}
		if full {
			item["factActor"] = m.FactActor
			item["memoryKind"] = m.MemoryKind
			item["visibility"] = m.Visibility
			item["userId"] = uid
		}
		list = append(list, item)
	}
	writeOK(w, map[string]any{"list": list, "total": len(hits)})
}

// decodeBody decodes a JSON object body into v, answering 422 otherwise.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeMissing(w, "body")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{
			{"type": "json_invalid", "loc": []string{"body"}, "msg": "JSON decode error"},
		}})
		return false
	}
	return true
}

func (s *Server) handleKeyMemoryAdd(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r, "note.write", "note.add")
	if !ok {
		return
	}
	var body struct {
		Content    string `json:"content"`
		Visibility *int   `json:"visibility"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	switch {
	case strings.TrimSpace(body.Content) == "":
		s.writeErr(w, http.StatusBadRequest, "memory.content.required", "content is required")
		return
	case utf8.RuneCountInString(body.Content) > secondme.MaxKeyMemoryRunes:
		s.writeErr(w, http.StatusBadRequest, "invalid.param", "content is too long")
		return
	}
	vis := 1
	if body.Visibility != nil {
		vis = *body.Visibility
	}
	s.mu.Lock()
	now := s.nowLocked()
	st := s.users[uid]
	st.u.KeyMemories = append(st.u.KeyMemories, secondme.KeyMemory{
		ID: s.nextID(), FactActor: "User", FactContent: body.Content, MemoryKind: "direct",
		Visibility: vis, CreateTime: now.Truncate(1e6), UpdateTime: now.Truncate(1e6),
	})
	s.mu.Unlock()
	writeOK(w, map[string]any{})
}

func (s *Server) handleNoteAdd(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.authenticate(w, r, "note.write", "note.add")
	if !ok {
		return
	}
	var body struct {
		Content    string   `json:"content"`
		Title      string   `json:"title"`
		URLs       []string `json:"urls"`
		MemoryType string   `json:"memoryType"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	n := secondme.Note{Type: secondme.NoteType(cmp.Or(body.MemoryType, "TEXT")), Content: body.Content, Title: body.Title, URLs: body.URLs}
	switch {
	case n.Type == secondme.NoteText && strings.TrimSpace(n.Content) == "":
		s.writeErr(w, http.StatusBadRequest, "note.content.required", "content is required for TEXT notes")
		return
	case n.Type == secondme.NoteLink && len(n.URLs) == 0:
		s.writeErr(w, http.StatusBadRequest, "note.urls.required", "urls are required for LINK notes")
		return
	case n.Validate() != nil:
		s.writeErr(w, http.StatusBadRequest, "invalid.param", "note exceeds limits")
		return
	}
	s.mu.Lock()
	id := s.nextID()
	s.users[uid].notes = append(s.users[uid].notes, n)
	s.mu.Unlock()
	writeOK(w, map[string]any{"noteId": id})
}
