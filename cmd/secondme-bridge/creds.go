package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// credCheck verifies one credential against its service. run returns a
// short detail on success; errSkipped (with the reason as detail) when the
// credential cannot be verified remotely. Errors never contain the secret.
type credCheck struct {
	name    string
	service string // svcDiscord, svcSlack or svcSecondMe: how failures are explained
	run     func(ctx context.Context) (string, error)
	// calls records the HTTP requests run made (nil for a skipped check).
	calls *callRecorder
}

// errSkipped marks a check that could not be performed.
var errSkipped = errors.New("skipped")

// checkRefreshToken is the refresh token sent to test the SecondMe client
// credentials. It is not a real token: the server rejects it, and how it
// rejects it tells whether it accepted the client id and secret.
const checkRefreshToken = "lba_rt_secondme-bridge-check-not-a-real-token"

// credentialChecks lists the checks for every configured credential, in
// report order. Each platform's check is the adapter's own (the same
// client, transport and API base the bridge uses when it serves).
func credentialChecks(cfg config.Config, hc *http.Client) []credCheck {
	var checks []credCheck
	if cfg.Discord.Enabled {
		dhc, rec := recordingClient(hc)
		checks = append(checks, credCheck{name: "discord token", service: svcDiscord, calls: rec, run: func(ctx context.Context) (string, error) {
			return discord.Check(ctx, discordConfig(cfg.Discord, dhc))
		}})
	}
	if cfg.Slack.Enabled {
		name := "slack bot token and app token"
		if cfg.Slack.Mode == config.SlackModeHTTP {
			name = "slack bot token"
		}
		shc, rec := recordingClient(hc)
		checks = append(checks, credCheck{name: name, service: svcSlack, calls: rec, run: func(ctx context.Context) (string, error) {
			detail, err := slack.Check(ctx, slackConfig(cfg.Slack, shc))
			if err == nil {
				err = missingBotScopes(rec.snapshot())
			}
			return detail, err
		}})
		if cfg.Slack.Mode == config.SlackModeHTTP {
			checks = append(checks, credCheck{name: "slack signing secret", run: func(context.Context) (string, error) {
				return "Slack has no API to verify it; only requests signed by Slack can", errSkipped
			}})
		}
	}
	mhc, rec := recordingClient(hc)
	checks = append(checks, credCheck{name: "secondme client credentials", service: svcSecondMe, calls: rec, run: func(ctx context.Context) (string, error) {
		return checkSecondMeClient(ctx, cfg, mhc)
	}})
	return checks
}

// checkSecondMeClient posts a refresh with a dummy refresh token and the
// configured client id and secret. How the server refuses it tells whether
// it accepted the client: oauth2.refresh_token.* means it got as far as the
// refresh token; oauth2.client.* and oauth2.application.* (pending review,
// rejected, suspended) mean it rejected the client.
func checkSecondMeClient(ctx context.Context, cfg config.Config, hc *http.Client) (string, error) {
	c, err := newSecondMeClient(cfg, hc)
	if err != nil {
		return "", err
	}
	_, err = c.RefreshToken(ctx, checkRefreshToken)
	var apiErr *secondme.APIError
	switch {
	case err == nil:
		return "client id and secret accepted", nil
	case errors.As(err, &apiErr) && secondme.IsOperatorProblem(err):
		return "", fmt.Errorf("rejected: %w", err)
	case errors.As(err, &apiErr) && secondme.IsRelinkRequired(err):
		return "client id and secret accepted (the server refused only the test refresh token: " + apiErr.SubCode + ")", nil
	default:
		return "", fmt.Errorf("unexpected answer: %w", err)
	}
}
