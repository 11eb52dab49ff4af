package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
)

// credCheck verifies one credential against its service. run returns a
// short detail on success; errSkipped (with the reason as detail) when the
// credential cannot be verified remotely. Errors never contain the secret.
type credCheck struct {
	name string
	run  func(ctx context.Context) (string, error)
}

// errSkipped marks a check that could not be performed.
var errSkipped = errors.New("skipped")

// maxCheckBody caps how much of a response a check reads.
const maxCheckBody = 64 << 10

// checkRefreshToken is the refresh token sent to test the SecondMe client
// credentials. It is not a real token: the server rejects it, and how it
// rejects it tells whether it accepted the client id and secret.
const checkRefreshToken = "lba_rt_secondme-bridge-check-not-a-real-token"

// credentialChecks lists the checks for every configured credential, in
// report order.
func credentialChecks(cfg config.Config, hc *http.Client) []credCheck {
	var checks []credCheck
	if cfg.Discord.Enabled {
		checks = append(checks, credCheck{"discord token", func(ctx context.Context) (string, error) {
			return checkDiscordToken(ctx, hc, cfg.Discord)
		}})
	}
	if cfg.Slack.Enabled {
		checks = append(checks, credCheck{"slack bot token", func(ctx context.Context) (string, error) {
			return checkSlackBotToken(ctx, hc, cfg.Slack)
		}})
		switch cfg.Slack.Mode {
		case config.SlackModeSocket:
			checks = append(checks, credCheck{"slack app token", func(ctx context.Context) (string, error) {
				return checkSlackAppToken(ctx, hc, cfg.Slack)
			}})
		case config.SlackModeHTTP:
			checks = append(checks, credCheck{"slack signing secret", func(context.Context) (string, error) {
				return "Slack has no API to verify it; only requests signed by Slack can", errSkipped
			}})
		}
	}
	checks = append(checks, credCheck{"secondme client credentials", func(ctx context.Context) (string, error) {
		return checkSecondMeClient(ctx, hc, cfg.SecondMe)
	}})
	return checks
}

// checkDiscordToken calls GET {discord.api_url}/users/@me as the bot.
func checkDiscordToken(ctx context.Context, hc *http.Client, d config.Discord) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.APIURL+"/users/@me", nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bot "+d.Token.Value())
	req.Header.Set("User-Agent", "DiscordBot (https://github.com/secondme-bridge/secondme-bridge, "+version+")")
	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Bot      bool   `json:"bot"`
	}
	if err := doJSON(hc, req, &me); err != nil {
		return "", err
	}
	if !me.Bot {
		return "", fmt.Errorf("the token belongs to user %q, which is not a bot", me.Username)
	}
	return fmt.Sprintf("bot %s (id %s)", me.Username, me.ID), nil
}

// slackResponse is the envelope of every Slack Web API answer.
type slackResponse struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Team   string `json:"team"`
	User   string `json:"user"`
	BotID  string `json:"bot_id"`
	TeamID string `json:"team_id"`
}

// checkSlackBotToken calls auth.test with the bot token in the form body.
func checkSlackBotToken(ctx context.Context, hc *http.Client, s config.Slack) (string, error) {
	form := url.Values{"token": {s.BotToken.Value()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.APIURL+"auth.test", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var resp slackResponse
	if err := doJSON(hc, req, &resp); err != nil {
		return "", err
	}
	if !resp.OK {
		return "", fmt.Errorf("slack answered %q", resp.Error)
	}
	if resp.BotID == "" {
		return "", errors.New("the token is not a bot token (auth.test returned no bot_id)")
	}
	return fmt.Sprintf("%s in workspace %s (%s)", resp.User, resp.Team, resp.TeamID), nil
}

// checkSlackAppToken calls apps.connections.open with the app-level token,
// as Socket Mode does. The connection URL it returns is not used (it
// expires unused).
func checkSlackAppToken(ctx context.Context, hc *http.Client, s config.Slack) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.APIURL+"apps.connections.open", nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AppToken.Value())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var resp slackResponse
	if err := doJSON(hc, req, &resp); err != nil {
		return "", err
	}
	if !resp.OK {
		return "", fmt.Errorf("slack answered %q", resp.Error)
	}
	return "Socket Mode connection allowed", nil
}

// checkSecondMeClient posts a refresh with a dummy refresh token and the
// configured client id and secret. The answer's error code tells whether
// the client credentials were accepted: oauth2.refresh_token.* means the
// server got as far as the refresh token; oauth2.client.* and
// oauth2.application.* mean it rejected the client.
func checkSecondMeClient(ctx context.Context, hc *http.Client, sm config.SecondMe) (string, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {checkRefreshToken},
		"client_id":     {sm.OAuth.ClientID},
		"client_secret": {sm.OAuth.ClientSecret.Value()},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sm.APIURL+"/api/oauth/token/refresh", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("request failed: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCheckBody))
	if err != nil {
		return "", fmt.Errorf("read response: %w", err)
	}
	var env struct {
		Code      json.Number `json:"code"`
		SubCode   string      `json:"subCode"`
		ErrorCode string      `json:"error_code"`
	}
	_ = json.Unmarshal(body, &env) // an unexpected body is reported below
	code := env.SubCode
	if code == "" {
		code = env.ErrorCode
	}
	switch {
	case strings.HasPrefix(code, "oauth2.refresh_token."):
		return "client id and secret accepted (the server refused only the test refresh token: " + code + ")", nil
	case strings.HasPrefix(code, "oauth2.client."), strings.HasPrefix(code, "oauth2.application."):
		return "", fmt.Errorf("rejected: %s (HTTP %d)", code, resp.StatusCode)
	case code != "":
		return "", fmt.Errorf("unexpected answer: %s (HTTP %d)", code, resp.StatusCode)
	case resp.StatusCode/100 == 2 && (env.Code == "" || env.Code == "0"):
		return "client id and secret accepted", nil
	default:
		return "", fmt.Errorf("unexpected answer: HTTP %s from %s", resp.Status, req.URL.Redacted())
	}
}

// doJSON sends req and decodes a 2xx JSON answer into v. Other statuses
// become an error naming the status ("401 Unauthorized").
func doJSON(hc *http.Client, req *http.Request, v any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("request failed: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCheckBody))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return errors.New(resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode response from %s: %w", req.URL.Redacted(), err)
	}
	return nil
}
