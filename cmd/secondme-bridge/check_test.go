package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// services are the fake Discord, Slack and SecondMe that check talks to:
// the same fakes the adapters' and client's own tests use.
type services struct {
	discord  *discordtest.Server
	slack    *slacktest.Server
	secondme *secondmetest.Server
}

func newServices(t *testing.T) services {
	t.Helper()
	return services{
		discord:  discordtest.New(t),
		slack:    slacktest.NewServer(t, slacktest.Options{}),
		secondme: secondmetest.New(t),
	}
}

// checkYAML is a config with both platforms and SecondMe pointed at the
// fakes, with the credentials given (the fakes' own ones pass).
func checkYAML(sv services, discordToken, slackBot, slackApp, clientID, clientSecret string) string {
	return `
http:
  listen: "127.0.0.1:0"
  public_url: "https://bridge.test"
  shutdown_timeout: 5s
store:
  path: DIR/bridge.db
  encryption_key: "` + testKey + `"
secondme:
  api_url: ` + sv.secondme.BaseURL() + `
  oauth:
    client_id: ` + clientID + `
    client_secret: ` + clientSecret + `
discord:
  enabled: true
  token: ` + discordToken + `
  application_id: "` + sv.discord.AppID() + `"
  api_url: ` + sv.discord.APIURL() + `
slack:
  enabled: true
  bot_token: ` + slackBot + `
  app_token: ` + slackApp + `
  api_url: ` + sv.slack.APIURL() + `
`
}

// goodYAML is checkYAML with every credential accepted by the fakes.
func goodYAML(sv services) string {
	return checkYAML(sv, sv.discord.Token(), sv.slack.BotToken(), sv.slack.AppToken(), sv.secondme.ClientID(), sv.secondme.ClientSecret())
}

func TestCheckAllPass(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	path := writeConfig(t, goodYAML(sv))
	code, stdout, stderr := runCLI(t, nil, "check", "--config", path)
	if code != exitOK {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, stderr)
	}
	dir := strings.TrimSuffix(path, "/config.yaml")
	want := strings.Join([]string{
		"PASS  config (" + path + ")",
		"PASS  store (bolt " + dir + "/bridge.db)",
		"PASS  discord token: bot " + discordtest.DefaultBotName + " [GET " + sv.discord.APIURL() + "/users/@me]",
		"PASS  slack bot token and app token: bot @secondme in team Acme (T1), socket mode ok [POST " + sv.slack.APIURL() + "auth.test, POST " + sv.slack.APIURL() + "apps.connections.open]",
		"PASS  secondme client credentials: client id and secret accepted (the server refused only the test refresh token: oauth2.refresh_token.invalid) [POST " + sv.secondme.BaseURL() + "/api/oauth/token/refresh]",
		"",
		"all 5 checks passed",
		"",
	}, "\n")
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestCheckBadCredentials(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	path := writeConfig(t, checkYAML(sv, "discord-bad", "xoxb-bad", "xapp-bad", sv.secondme.ClientID(), "secret-bad"))
	code, stdout, stderr := runCLI(t, nil, "check", "--config", path)
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"FAIL  discord token: HTTP 401 Unauthorized: Discord refused the bot token [GET " + sv.discord.APIURL() + "/users/@me]\n" +
			"      fix: reset the token at https://discord.com/developers/applications → your application → Bot → Reset Token, and put it in discord.token (or SECONDME_BRIDGE_DISCORD_TOKEN), without \"Bot \"\n",
		"FAIL  slack bot token and app token: Slack answered invalid_auth to the bot token [POST " + sv.slack.APIURL() + "auth.test]\n" +
			"      fix: copy the Bot User OAuth Token (xoxb-…) from https://api.slack.com/apps → your app → OAuth & Permissions (reinstall the app to the workspace if it was removed) into slack.bot_token\n",
		"FAIL  secondme client credentials: SecondMe refused the client: oauth2.client.secret_mismatch (HTTP 401) [POST " + sv.secondme.BaseURL() + "/api/oauth/token/refresh]\n" +
			"      fix: secondme.oauth.client_secret does not belong to secondme.oauth.client_id: copy the secret again from https://develop.second.me → your app (or reset it there)\n",
		"\n3 check(s) failed, 2 passed\n",
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

	// A good bot token with a bad app token fails on apps.connections.open.
	path = writeConfig(t, checkYAML(sv, sv.discord.Token(), sv.slack.BotToken(), "xapp-bad", "client-unknown", sv.secondme.ClientSecret()))
	_, stdout, _ = runCLI(t, nil, "check", "--config", path)
	for _, want := range []string{
		"FAIL  slack bot token and app token: Slack answered invalid_auth to the app-level token [POST " + sv.slack.APIURL() + "auth.test, POST " + sv.slack.APIURL() + "apps.connections.open]\n" +
			"      fix: https://api.slack.com/apps → your app → Basic Information → App-Level Tokens: generate one with connections:write (it starts with xapp-) and put it in slack.app_token; enable Socket Mode under Settings → Socket Mode\n",
		"FAIL  secondme client credentials: SecondMe refused the client: oauth2.client.invalid (HTTP 400) [POST " + sv.secondme.BaseURL() + "/api/oauth/token/refresh]\n" +
			"      fix: secondme.oauth.client_id (now \"client-unknown\") is unknown to SecondMe: copy the client id from https://develop.second.me → your app\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
}

func TestCheckUnreachableAndWrongURL(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	yaml := goodYAML(sv)
	yaml = strings.Replace(yaml, sv.secondme.BaseURL(), closed.URL, 1)
	yaml = strings.Replace(yaml, sv.discord.APIURL(), sv.discord.URL()+"/wrong", 1)
	path := writeConfig(t, yaml)
	code, stdout, _ := runCLI(t, nil, "check", "--config", path)
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	host := strings.TrimPrefix(closed.URL, "http://")
	for _, want := range []string{
		"FAIL  discord token: HTTP 404 Not Found [GET " + sv.discord.URL() + "/wrong/users/@me]\n" +
			"      fix: discord.api_url (now \"" + sv.discord.URL() + "/wrong\") must be Discord's API base, https://discord.com/api/v9\n",
		"FAIL  secondme client credentials: connection refused: nothing listens at that address (dial tcp " + host + ": connect: connection refused) [POST " + closed.URL + "/api/oauth/token/refresh]\n" +
			"      fix: nothing listens at " + host + ": check secondme.api_url (now \"" + closed.URL + "\") and that the service (or your proxy) is up\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
}

func TestCheckSlackHTTPModeAndStoreFailure(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	yaml := goodYAML(sv)
	yaml = strings.Replace(yaml, "  app_token: "+sv.slack.AppToken()+"\n", "  mode: http\n  signing_secret: s3\n", 1)
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
