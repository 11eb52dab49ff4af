package secondme_test

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// setup starts a fake mounted under a non-root base path, so that any
// request built with an absolute path misses it, and a client for it.
func setup(t *testing.T, opts ...secondme.Option) (*secondmetest.Server, *secondme.Client) {
	t.Helper()
	s := secondmetest.NewServer(t, secondmetest.Options{BasePath: "/gate/lab"})
	return s, s.Client(opts...)
}

// userWithToken adds user 42 (Ada) and returns an access token.
func userWithToken(t *testing.T, s *secondmetest.Server, scopes ...string) string {
	t.Helper()
	s.AddUser(secondmetest.User{ID: "42", Name: "Ada", Email: "ada@example.com"}, scopes...)
	return s.IssueToken("42").AccessToken
}
