package secondme_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestUserInfo(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	s.AddUser(secondmetest.User{ID: "12345678", Name: "Username", Email: "user@example.com", Avatar: "https://cdn/a.jpg",
		Bio: "bio", SelfIntroduction: "intro", Route: "username", VoiceID: "voice_001", ProfileCompleteness: 85})
	tok := s.IssueToken("12345678").AccessToken
	got, err := c.UserInfo(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &secondme.UserInfo{UserID: "12345678", Name: "Username", Email: "user@example.com", Avatar: "https://cdn/a.jpg",
		Bio: "bio", SelfIntroduction: "intro", Route: "username", VoiceID: "voice_001", ProfileCompleteness: 85}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r := s.RequestsTo(secondmetest.PathUserInfo)[0]
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer "+tok || len(r.Body) != 0 {
		t.Errorf("request %s %v body %q", r.Method, r.Header, r.Body)
	}
	// A legacy API key works the same way.
	if u, err := c.UserInfo(t.Context(), s.AddAPIKey("12345678")); err != nil || u.Name != "Username" {
		t.Errorf("API key: %+v, %v", u, err)
	}
}

func TestUserInfoVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want secondme.UserInfo
	}{
		{"userId string", `{"userId":"123","name":"A"}`, secondme.UserInfo{UserID: "123", Name: "A"}},
		{"id number", `{"id":12345678901,"name":"B"}`, secondme.UserInfo{UserID: "12345678901", Name: "B"}},
		{"id string", `{"id":"u-9"}`, secondme.UserInfo{UserID: "u-9"}},
		{"userId wins over id", `{"userId":"1","id":"2"}`, secondme.UserInfo{UserID: "1"}},
		{"older reference without id", `{"name":"用户名","voiceId":"voice_001","profileCompleteness":85.0}`,
			secondme.UserInfo{Name: "用户名", VoiceID: "voice_001", ProfileCompleteness: 85}},
		{"level and nulls", `{"userId":"1","profileCompleteness":"7","bio":null,"email":null}`, secondme.UserInfo{UserID: "1", ProfileCompleteness: 7}},
		{"data null", `null`, secondme.UserInfo{}},
	}
	for _, tc := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		s.QueueResponse(secondmetest.PathUserInfo, secondmetest.Response{Body: `{"code":0,"message":"success","data":` + tc.data + `}`})
		got, err := c.UserInfo(t.Context(), tok)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(&tc.want, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestTokenChecksOfTheFake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(s *secondmetest.Server, tok string)
		check func(error) bool
	}{
		{"expired", func(s *secondmetest.Server, tok string) { s.ExpireAccessToken(tok) }, secondme.IsTokenInvalid},
		{"aged out", func(s *secondmetest.Server, _ string) { s.Advance(3 * 60 * 60 * 1e9) }, secondme.IsTokenInvalid},
		{"revoked token", func(s *secondmetest.Server, tok string) { s.RevokeAccessToken(tok) }, secondme.IsRelinkRequired},
		{"user revoked", func(s *secondmetest.Server, _ string) { s.RevokeUser("42") }, secondme.IsRelinkRequired},
		{"scope removed", func(s *secondmetest.Server, _ string) { s.SetScopes("42", "chat.write") }, func(err error) bool {
			scope, ok := secondme.MissingScope(err)
			return ok && scope == "userinfo"
		}},
	}
	for _, tc := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		tc.spoil(s, tok)
		_, err := c.UserInfo(t.Context(), tok)
		if !tc.check(err) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	s, c := setup(t)
	if _, err := c.UserInfo(t.Context(), "lba_at_unknown"); !secondme.IsTokenInvalid(err) {
		t.Errorf("unknown token: %v", err)
	}
	// No Bearer at all: FastAPI detail 需要认证.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.BaseURL()+secondmetest.PathUserInfo, nil)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no bearer: status %d", resp.StatusCode)
	}
}

func TestAuthMe(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	me, err := c.AuthMe(t.Context(), tok)
	if err != nil || me.AppScopedUserID != "asu_42" {
		t.Fatalf("AuthMe = %+v, %v", me, err)
	}
	if r := s.RequestsTo(secondmetest.PathAuthMe); len(r) != 1 || r[0].URLPath != "/gate/lab/api/auth/me" {
		t.Errorf("requests %+v", r)
	}
	for body, want := range map[string]string{
		`{"code":0,"data":{"appScopedUserId":987,"other":"x"}}`: "987",
		`{"code":0,"data":{"app_scoped_user_id":"a-1"}}`:        "a-1",
		`{"code":0,"data":{}}`:                                  "",
	} {
		s.QueueResponse(secondmetest.PathAuthMe, secondmetest.Response{Body: body})
		me, err := c.AuthMe(t.Context(), tok)
		if err != nil || me.AppScopedUserID != want {
			t.Errorf("AuthMe(%s) = %+v, %v", body, me, err)
		}
	}
}

func TestUserShades(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	shade := secondme.Shade{
		ID: 123, Name: "Tech Enthusiast", Icon: "https://cdn/icon.png", ConfidenceLevel: "HIGH",
		Description: "d", DescriptionThirdView: "d3", Content: "c", ContentThirdView: "c3", SourceTopics: []string{"programming", "AI"},
		NamePublic: "Tech Lover", IconPublic: "https://cdn/p.png", ConfidenceLevelPublic: "HIGH", DescriptionPublic: "dp",
		DescriptionThirdViewPublic: "dp3", ContentPublic: "cp", ContentThirdViewPublic: "cp3", SourceTopicsPublic: []string{"tech"},
		HasPublicContent: true,
	}
	s.AddUser(secondmetest.User{ID: "42", Shades: []secondme.Shade{shade}}, "user.info.shades")
	tok := s.IssueToken("42").AccessToken
	got, err := c.UserShades(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]secondme.Shade{shade}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Variants: data as a bare array, and empty data.
	s.QueueResponse(secondmetest.PathUserShades, secondmetest.Response{Body: `{"code":0,"data":[{"id":"5","shadeName":"x","sourceTopics":null}]}`})
	got, err = c.UserShades(t.Context(), tok)
	if err != nil || len(got) != 1 || got[0].ID != 5 || got[0].Name != "x" {
		t.Errorf("array variant: %+v, %v", got, err)
	}
	s.QueueResponse(secondmetest.PathUserShades, secondmetest.Response{Body: `{"code":0,"data":{}}`})
	if got, err = c.UserShades(t.Context(), tok); err != nil || len(got) != 0 {
		t.Errorf("empty: %+v, %v", got, err)
	}
	s.SetScopes("42", "chat")
	_, err = c.UserShades(t.Context(), tok)
	if scope, ok := secondme.MissingScope(err); !ok || scope != "userinfo" {
		t.Errorf("missing scope: %q %v (%v)", scope, ok, err)
	}
	var ae *secondme.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 403 {
		t.Errorf("err %v", err)
	}
}
