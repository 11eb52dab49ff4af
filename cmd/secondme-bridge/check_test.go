package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeServices is one httptest server speaking the few endpoints check
// calls: Discord under /discord/api/v9, Slack under /slack/api/, SecondMe
// under /secondme/gate/lab. Only the "good" credentials are accepted.
func fakeServices(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /discord/api/v9/users/@me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot discord-good" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": "42", "username": "avatarbot", "bot": true})
	})
	mux.HandleFunc("POST /slack/api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("token") != "xoxb-good" {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "team": "Acme", "team_id": "T1", "user": "avatar", "user_id": "U1", "bot_id": "B1"})
	})
	mux.HandleFunc("POST /slack/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xapp-good" {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": "wss://example.invalid/link"})
	})
	mux.HandleFunc("POST /secondme/gate/lab/api/oauth/token/refresh", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != checkRefreshToken {
			writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "Field required"})
			return
		}
		switch {
		case r.FormValue("client_id") != "client-good":
			writeJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "no such app", "subCode": "oauth2.application.not_found"})
		case r.FormValue("client_secret") != "secret-good":
			// The older docs name the field error_code; accept both.
			writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "bad secret", "error_code": "oauth2.client.secret_mismatch"})
		default:
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "invalid", "subCode": "oauth2.refresh_token.invalid"})
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// checkYAML is a config with both platforms pointed at base (a
// fakeServices URL), with credentials given as arguments.
func checkYAML(base, discordToken, slackBot, slackApp, clientID, clientSecret string) string {
	return `
http:
  public_url: "https://bridge.test"
store:
  path: DIR/bridge.db
  encryption_key: "` + testKey + `"
secondme:
  api_url: ` + base + `/secondme/gate/lab
  oauth:
    client_id: ` + clientID + `
    client_secret: ` + clientSecret + `
discord:
  enabled: true
  token: ` + discordToken + `
  application_id: "123"
  api_url: ` + base + `/discord/api/v9
slack:
  enabled: true
  bot_token: ` + slackBot + `
  app_token: ` + slackApp + `
  api_url: ` + base + `/slack/api/
`
}

func TestCheckAllPass(t *testing.T) {
	t.Parallel()
	srv := fakeServices(t)
	path := writeConfig(t, checkYAML(srv.URL, "discord-good", "xoxb-good", "xapp-good", "client-good", "secret-good"))
	code, stdout, stderr := runCLI(t, nil, "check", "--config", path)
	if code != exitOK {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, stderr)
	}
	dir := strings.TrimSuffix(path, "/config.yaml")
	want := strings.Join([]string{
		"PASS  config (" + path + ")",
		"PASS  store (bolt " + dir + "/bridge.db)",
		"PASS  discord token: bot avatarbot (id 42)",
		"PASS  slack bot token: avatar in workspace Acme (T1)",
		"PASS  slack app token: Socket Mode connection allowed",
		"PASS  secondme client credentials: client id and secret accepted (the server refused only the test refresh token: oauth2.refresh_token.invalid)",
		"",
		"all 6 checks passed",
		"",
	}, "\n")
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestCheckBadCredentials(t *testing.T) {
	t.Parallel()
	srv := fakeServices(t)
	path := writeConfig(t, checkYAML(srv.URL, "discord-bad", "xoxb-bad", "xapp-bad", "client-good", "secret-bad"))
	code, stdout, stderr := runCLI(t, nil, "check", "--config", path)
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"FAIL  discord token: 401 Unauthorized\n",
		"FAIL  slack bot token: slack answered \"invalid_auth\"\n",
		"FAIL  slack app token: slack answered \"invalid_auth\"\n",
		"FAIL  secondme client credentials: rejected: oauth2.client.secret_mismatch (HTTP 401)\n",
		"\n4 check(s) failed, 2 passed\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
	for _, secret := range []string{"discord-bad", "xoxb-bad", "xapp-bad", "secret-bad"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("output contains secret %q", secret)
		}
	}

	path = writeConfig(t, checkYAML(srv.URL, "discord-good", "xoxb-good", "xapp-good", "client-unknown", "secret-good"))
	_, stdout, _ = runCLI(t, nil, "check", "--config", path)
	if want := "FAIL  secondme client credentials: rejected: oauth2.application.not_found (HTTP 404)\n"; !strings.Contains(stdout, want) {
		t.Errorf("stdout does not contain %q:\n%s", want, stdout)
	}
}

func TestCheckUnreachableAndWrongURL(t *testing.T) {
	t.Parallel()
	srv := fakeServices(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	yaml := checkYAML(srv.URL, "discord-good", "xoxb-good", "xapp-good", "client-good", "secret-good")
	yaml = strings.Replace(yaml, srv.URL+"/secondme/gate/lab", closed.URL, 1)
	yaml = strings.Replace(yaml, srv.URL+"/discord/api/v9", srv.URL+"/wrong", 1)
	path := writeConfig(t, yaml)
	code, stdout, _ := runCLI(t, nil, "check", "--config", path)
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"FAIL  discord token: 404 Not Found\n",
		"FAIL  secondme client credentials: request failed: Post \"" + closed.URL + "/api/oauth/token/refresh\": dial tcp",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
}

func TestCheckSlackHTTPModeAndStoreFailure(t *testing.T) {
	t.Parallel()
	srv := fakeServices(t)
	yaml := checkYAML(srv.URL, "discord-good", "xoxb-good", "xapp-good", "client-good", "secret-good")
	yaml = strings.Replace(yaml, "  app_token: xapp-good\n", "  mode: http\n  signing_secret: s3\n", 1)
	yaml = strings.Replace(yaml, "DIR/bridge.db", "DIR/missing-dir/bridge.db", 1)
	path := writeConfig(t, yaml)
	code, stdout, _ := runCLI(t, nil, "check", "--config", path)
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"SKIP  slack signing secret: Slack has no API to verify it; only requests signed by Slack can\n",
		"/missing-dir/bridge.db): open bolt store ",
		"no such file or directory\n",
		"PASS  slack bot token",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "slack app token") {
		t.Errorf("app token checked in http mode:\n%s", stdout)
	}
}

// TestCheckExampleConfig is the "done when": check on the shipped
// example prints every placeholder problem in one report and fails.
func TestCheckExampleConfig(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, nil, "check", "--config", "../../config.example.yaml")
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	want := `FAIL  config (../../config.example.yaml): invalid config, 8 problem(s)
      - http.public_url: still the placeholder from config.example.yaml
      - store.encryption_key: still the placeholder from config.example.yaml
      - secondme.oauth.client_id: still the placeholder from config.example.yaml
      - secondme.oauth.client_secret: still the placeholder from config.example.yaml
      - discord.token: still the placeholder from config.example.yaml
      - discord.application_id: still the placeholder from config.example.yaml
      - slack.bot_token: still the placeholder from config.example.yaml
      - slack.app_token: still the placeholder from config.example.yaml
SKIP  store and credentials: fix the config first

1 check(s) failed, 0 passed
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestCheckMissingFile(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, nil, "check", "--config", "/nonexistent/config.yaml")
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	want := "FAIL  config (/nonexistent/config.yaml): read config file: open /nonexistent/config.yaml: no such file or directory\n"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout = %q, want prefix %q", stdout, want)
	}
}
