package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// Services a credential check talks to (credCheck.service).
const (
	svcDiscord  = "discord"
	svcSlack    = "slack"
	svcSecondMe = "secondme"
)

// Where operators fix credentials.
const (
	discordPortal   = "https://discord.com/developers/applications"
	slackApps       = "https://api.slack.com/apps"
	secondMeConsole = "https://develop.second.me"
)

// errMissingScopes is a Slack bot token without every scope the bridge
// needs.
type errMissingScopes struct{ missing []string }

func (e *errMissingScopes) Error() string {
	return "the bot token lacks the scope(s) " + strings.Join(e.missing, ", ")
}

// missingBotScopes compares the scopes Slack reported for the bot token
// (X-OAuth-Scopes of auth.test) with the ones the bridge needs. It returns
// nil when the header was absent (nothing to compare).
func missingBotScopes(calls []exchange) error {
	for _, c := range calls {
		if !strings.HasSuffix(c.url, "/auth.test") || !c.hasScopes {
			continue
		}
		have := map[string]bool{}
		for _, s := range strings.Split(c.oauthScopes, ",") {
			have[strings.TrimSpace(s)] = true
		}
		var missing []string
		for _, s := range slack.BotScopes() {
			if !have[s] {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			return &errMissingScopes{missing: missing}
		}
	}
	return nil
}

// diagnosis is what check prints for a failed credential: what happened,
// in the operator's words, and the one thing to do about it.
type diagnosis struct {
	summary string // "connection refused", "HTTP 401 Unauthorized", …
	fix     string
}

// diagnose explains err, the failure of the check of service, from the
// calls it made.
func diagnose(service string, cfg config.Config, calls []exchange, err error) diagnosis {
	key, base := apiKeyOf(service, cfg)
	var last exchange
	if len(calls) > 0 {
		last = calls[len(calls)-1]
	}
	host := hostOf(last.url)
	if host == "" {
		host = hostOf(base)
	}
	// No answer at all: the network, whatever the service.
	if kind := netErrorKind(last.err); kind != "" {
		d := diagnosis{summary: describeNetError(last.err)}
		switch kind {
		case netRefused:
			d.fix = fmt.Sprintf("nothing listens at %s: check %s (now %q) and that the service (or your proxy) is up", host, key, base)
		case netNoAnswer:
			d.fix = fmt.Sprintf("%s did not answer in time: a firewall may drop outbound HTTPS from this machine (allow it, or set HTTPS_PROXY), or %s (now %q) points at a host that accepts but never answers", host, key, base)
		case netNoHost:
			d.fix = fmt.Sprintf("fix the host name in %s (now %q)", key, base)
		case netTLS:
			d.fix = fmt.Sprintf("the TLS handshake with %s failed: check %s (https for a real service) and this machine's CA certificates and clock", host, key)
		default:
			d.fix = fmt.Sprintf("check %s (now %q) and this machine's network", key, base)
		}
		return d
	}
	switch service {
	case svcDiscord:
		return diagnoseDiscord(cfg, last, err)
	case svcSlack:
		return diagnoseSlack(cfg, last, err)
	default:
		return diagnoseSecondMe(cfg, last, err)
	}
}

func diagnoseDiscord(cfg config.Config, last exchange, err error) diagnosis {
	d := diagnosis{summary: statusText(last.status)}
	switch {
	case last.status == http.StatusUnauthorized:
		d.summary += ": Discord refused the bot token"
		d.fix = "reset the token at " + discordPortal + " → your application → Bot → Reset Token, and put it in discord.token (or SECONDME_BRIDGE_DISCORD_TOKEN), without \"Bot \""
	case last.status == http.StatusNotFound:
		d.fix = fmt.Sprintf("discord.api_url (now %q) must be Discord's API base, https://discord.com/api/v9", cfg.Discord.APIURL)
	case last.status == http.StatusTooManyRequests:
		d.fix = "Discord is rate limiting this machine: wait a minute and run check again"
	case last.status >= 500:
		d.fix = "Discord is having trouble (https://discordstatus.com): run check again later"
	case last.status == 0:
		d.summary = err.Error()
		d.fix = fmt.Sprintf("check discord.api_url (now %q)", cfg.Discord.APIURL)
	default:
		d.summary += ": " + err.Error()
		d.fix = fmt.Sprintf("unexpected answer: check discord.api_url (now %q) and discord.token", cfg.Discord.APIURL)
	}
	return d
}

func diagnoseSlack(cfg config.Config, last exchange, err error) diagnosis {
	var ms *errMissingScopes
	if errors.As(err, &ms) {
		return diagnosis{
			summary: ms.Error(),
			fix: "add them at " + slackApps + " → your app → OAuth & Permissions → Bot Token Scopes (or create the app from `secondme-bridge slack-manifest`), " +
				"reinstall the app to the workspace, and put the new xoxb- token in slack.bot_token",
		}
	}
	appToken := strings.HasSuffix(last.url, "/apps.connections.open")
	d := diagnosis{summary: statusText(last.status)}
	if last.slackError != "" {
		d.summary = "Slack answered " + last.slackError
		if appToken {
			d.summary += " to the app-level token"
		} else {
			d.summary += " to the bot token"
		}
	}
	switch {
	case appToken && last.slackError == "missing_scope":
		need := cmp.Or(last.slackNeeded, slack.AppTokenScope)
		d.summary += " (needs " + need + ")"
		d.fix = slackApps + " → your app → Basic Information → App-Level Tokens: generate a token with " + need + " and put it in slack.app_token"
	case appToken && (last.slackError == "not_allowed_token_type" || last.slackError == "invalid_auth" || last.slackError == "not_authed" || last.slackError == "token_revoked"):
		d.fix = slackApps + " → your app → Basic Information → App-Level Tokens: generate one with " + slack.AppTokenScope + " (it starts with xapp-) and put it in slack.app_token; enable Socket Mode under Settings → Socket Mode"
	case appToken && last.slackError != "":
		d.fix = "check Settings → Socket Mode is on at " + slackApps + " → your app, and slack.app_token; or use slack.mode: http"
	case last.slackError == "missing_scope":
		d.summary += " (needs " + cmp.Or(last.slackNeeded, "a scope") + ")"
		d.fix = "add the scope at " + slackApps + " → your app → OAuth & Permissions → Bot Token Scopes, reinstall the app, and put the new token in slack.bot_token"
	case last.slackError == "invalid_auth" || last.slackError == "not_authed" || last.slackError == "token_revoked" ||
		last.slackError == "account_inactive" || last.slackError == "token_expired":
		d.fix = "copy the Bot User OAuth Token (xoxb-…) from " + slackApps + " → your app → OAuth & Permissions (reinstall the app to the workspace if it was removed) into slack.bot_token"
	case last.status == http.StatusNotFound:
		d.fix = fmt.Sprintf("slack.api_url (now %q) must be Slack's Web API base, https://slack.com/api/", cfg.Slack.APIURL)
	case last.status == http.StatusTooManyRequests:
		d.fix = "Slack is rate limiting this token: wait a minute and run check again"
	case last.status >= 500:
		d.fix = "Slack is having trouble (https://slack-status.com): run check again later"
	default:
		d.summary = cmp.Or(strings.TrimSpace(d.summary+": "+err.Error()), err.Error())
		d.fix = fmt.Sprintf("unexpected answer: check slack.api_url (now %q) and the tokens", cfg.Slack.APIURL)
	}
	return d
}

func diagnoseSecondMe(cfg config.Config, last exchange, err error) diagnosis {
	var ae *secondme.APIError
	if !errors.As(err, &ae) {
		d := diagnosis{summary: statusText(last.status) + ": " + err.Error()}
		if last.status == 0 {
			d.summary = err.Error()
		}
		d.fix = fmt.Sprintf("secondme.api_url (now %q) must be SecondMe's API base, %s", cfg.SecondMe.APIURL, config.Default().SecondMe.APIURL)
		return d
	}
	d := diagnosis{summary: fmt.Sprintf("SecondMe refused the client: %s (HTTP %d)", ae.SubCode, ae.HTTPStatus)}
	app := secondMeConsole + " → your app"
	switch {
	case ae.SubCode == "oauth2.client.secret_mismatch":
		d.fix = "secondme.oauth.client_secret does not belong to secondme.oauth.client_id: copy the secret again from " + app + " (or reset it there)"
	case ae.SubCode == "oauth2.client.invalid", ae.SubCode == "oauth2.application.not_found":
		d.fix = fmt.Sprintf("secondme.oauth.client_id (now %q) is unknown to SecondMe: copy the client id from %s", cfg.SecondMe.OAuth.ClientID, app)
	case ae.SubCode == "oauth2.application.pending_review":
		d.fix = "the app is waiting for SecondMe's review: see " + app + "; check passes once it is approved"
	case ae.SubCode == "oauth2.application.rejected", ae.SubCode == "oauth2.application.suspended":
		d.fix = "the app was " + strings.TrimPrefix(ae.SubCode, "oauth2.application.") + " by SecondMe: see " + app + " for the reason"
	case strings.HasPrefix(ae.SubCode, "oauth2.application."), strings.HasPrefix(ae.SubCode, "oauth2.client."):
		d.fix = "the app's settings are not accepted: check its status and type at " + app
	case ae.HTTPStatus == http.StatusNotFound:
		d.fix = fmt.Sprintf("secondme.api_url (now %q) must be SecondMe's API base, %s", cfg.SecondMe.APIURL, config.Default().SecondMe.APIURL)
	case ae.HTTPStatus >= 500:
		d.fix = "SecondMe is having trouble: run check again later"
	default:
		d.summary = fmt.Sprintf("unexpected answer: %s (HTTP %d)", cmp.Or(ae.SubCode, "no code"), ae.HTTPStatus)
		d.fix = fmt.Sprintf("check secondme.api_url (now %q) and secondme.oauth.*", cfg.SecondMe.APIURL)
	}
	return d
}

// apiKeyOf returns the config key and value of a service's API base.
func apiKeyOf(service string, cfg config.Config) (key, base string) {
	switch service {
	case svcDiscord:
		return "discord.api_url", cfg.Discord.APIURL
	case svcSlack:
		return "slack.api_url", cfg.Slack.APIURL
	default:
		return "secondme.api_url", cfg.SecondMe.APIURL
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// statusText is "HTTP 401 Unauthorized" ("no HTTP answer" for 0).
func statusText(code int) string {
	if code == 0 {
		return "no HTTP answer"
	}
	return fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
}
