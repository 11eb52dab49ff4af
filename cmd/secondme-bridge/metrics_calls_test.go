package main

import "testing"

// TestRouteClass: ids, snowflakes, versions and tokens become {x}, so
// labels stay few and never carry a credential; method names stay.
func TestRouteClass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ method, path, want string }{
		{"PATCH", "/api/v9/channels/1234567890/messages/987654321", "PATCH /api/{x}/channels/{x}/messages/{x}"},
		{"POST", "/api/v9/interactions/123/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnRva2Vu/callback", "POST /api/{x}/interactions/{x}/{x}/callback"},
		{"POST", "/api/v9/webhooks/42/aW50ZXJhY3Rpb24tdG9rZW4tdGhhdC1pcy12ZXJ5LWxvbmctaW5kZWVk", "POST /api/{x}/webhooks/{x}/{x}"},
		{"GET", "/api/v9/users/@me", "GET /api/{x}/users/@me"},
		{"POST", "/api/chat.postMessage", "POST /api/chat.postMessage"},
		{"POST", "/api/assistant.threads.setStatus", "POST /api/assistant.threads.setStatus"},
		{"POST", "/actions/T0123/456789/abcdefABCDEF0123456789", "POST /actions/{x}/{x}/{x}"},
		{"POST", "/gate/lab/api/secondme/chat/stream", "POST /gate/lab/api/secondme/chat/stream"},
		{"GET", "/", "GET /{x}"},
	} {
		if got := routeClass(tc.method, tc.path); got != tc.want {
			t.Errorf("routeClass(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
