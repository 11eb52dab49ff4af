package discord

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// codeThreadAlreadyCreated is the Discord JSON error code for a thread
// already started from a message.
const codeThreadAlreadyCreated = 160004

var (
	// tokenPathRe matches the secret segment of webhook and interaction
	// routes (/webhooks/{app}/{token}, /interactions/{id}/{token}).
	tokenPathRe = regexp.MustCompile(`(/(?:webhooks|interactions)/[^/\s]+/)[^/\s?"]+`)
	// botTokenRe matches the shape of a Discord bot token.
	botTokenRe = regexp.MustCompile(`[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}`)
	// jsonTokenRe matches a "token" member of a JSON body (a webhook's, in
	// GET /channels/{id}/webhooks and webhook creation answers).
	jsonTokenRe = regexp.MustCompile(`("token"\s*:\s*")[^"]*`)
)

// redact removes interaction tokens and bot tokens from s.
func redact(s string) string {
	s = tokenPathRe.ReplaceAllString(s, "${1}[redacted]")
	s = jsonTokenRe.ReplaceAllString(s, "${1}[redacted]")
	return botTokenRe.ReplaceAllString(s, "[redacted]")
}

// tokenHash is a short, stable, non-secret name for an interaction token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// apiError turns a discordgo error into the adapter's error for op: a 429
// becomes *platforms.RateLimitError, URLs lose their tokens, everything else
// is wrapped with the op prefix.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil {
		out := &platforms.RateLimitError{Platform: platformName}
		clean := &discordgo.RateLimit{URL: redact(rl.URL)}
		if rl.TooManyRequests != nil {
			out.RetryAfter = rl.RetryAfter
			tm := *rl.TooManyRequests
			clean.TooManyRequests = &tm
		}
		out.Err = fmt.Errorf("%s: %w", op, &discordgo.RateLimitError{RateLimit: clean})
		return out
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", op, &url.Error{Op: ue.Op, URL: redact(ue.URL), Err: ue.Err})
	}
	return fmt.Errorf("%s: %w", op, err)
}

// restCode returns Discord's JSON error code of err, or 0.
func restCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

// restStatus returns the HTTP status of err, or 0.
func restStatus(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}
