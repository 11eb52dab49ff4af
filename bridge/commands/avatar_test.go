package commands

import (
	"errors"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

func TestNoteUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&secondme.APIError{HTTPStatus: 404}, true},
		{&secondme.APIError{HTTPStatus: 410}, true},
		{&secondme.APIError{HTTPStatus: 503, SubCode: "note.service.unavailable"}, true},
		{&secondme.APIError{HTTPStatus: 500, Message: "temporarily unavailable"}, true},
		{&secondme.APIError{HTTPStatus: 500, SubCode: "internal.error"}, false},
		{&secondme.APIError{HTTPStatus: 403, SubCode: "auth.scope.missing"}, false},
		{errors.New("network"), false},
	} {
		if got := noteUnavailable(tc.err); got != tc.want {
			t.Errorf("noteUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
