package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// liveParts are the running parts a reload (SIGHUP) changes.
type liveParts struct {
	bridge    *bridge.Bridge
	platforms []platforms.Platform
}

// allowListSetter is a platform whose allow lists can change live (the
// Discord adapter).
type allowListSetter interface {
	SetAllowLists(guilds, channels []string)
}

// liveKeys are the config keys a reload applies to the running process.
// Every other key needs a restart.
var liveKeys = []string{
	"log.level",
	"log.format",
	"discord.allowed_guilds",
	"discord.allowed_channels",
	"bridge.edit_interval",
	"bridge.system_prompt",
	"bridge.max_input_chars",
	"bridge.queue_size",
	"bridge.user_rate_limit",
	"bridge.reply_as",
	"slack.app_name", // read only by slack-manifest: nothing to apply
	"bridge.texts_dir",
}

// reloadResult is what one reload did.
type reloadResult struct {
	applied []string // live keys whose value changed and was applied
	kept    []string // keys that changed but need a restart (kept as they were)
	texts   string   // bridge.texts_dir re-read ("" = built-in texts)
}

// reload re-reads the config file at path and applies to a what can change
// live; current is the config running now. An invalid file (unreadable,
// unparsable, failing validation) changes nothing and returns the error
// with current. Otherwise the returned config is the new running config:
// the new file's live keys on current's restart-only keys, so that the next
// reload compares with what runs. Calls must not overlap (serve makes them
// from one goroutine).
func (a *app) reload(current config.Config, path string, getenv func(string) string) (config.Config, reloadResult, error) {
	next, err := config.Load(path, getenv)
	if err == nil {
		err = next.Validate()
	}
	if err != nil {
		return current, reloadResult{}, fmt.Errorf("reload %s: %w", path, err)
	}
	// The texts first: the one step that can still fail. Their files are
	// re-read on every reload, changed key or not.
	if err := i18n.Apply(next.Bridge.TextsDir); err != nil {
		return current, reloadResult{}, fmt.Errorf("reload %s: %w", path, err)
	}
	var res reloadResult
	res.texts = next.Bridge.TextsDir
	for _, key := range changedKeys(current, next) {
		if slices.Contains(liveKeys, key) {
			res.applied = append(res.applied, key)
		} else {
			res.kept = append(res.kept, key)
		}
	}
	running := current
	running.Log = next.Log
	running.Discord.AllowedGuilds = next.Discord.AllowedGuilds
	running.Discord.AllowedChannels = next.Discord.AllowedChannels
	running.Slack.AppName = next.Slack.AppName
	running.Bridge.EditInterval = next.Bridge.EditInterval
	running.Bridge.SystemPrompt = next.Bridge.SystemPrompt
	running.Bridge.MaxInputChars = next.Bridge.MaxInputChars
	running.Bridge.QueueSize = next.Bridge.QueueSize
	running.Bridge.UserRateLimit = next.Bridge.UserRateLimit
	running.Bridge.ReplyAs = next.Bridge.ReplyAs
	running.Bridge.TextsDir = next.Bridge.TextsDir

	if a.live.bridge != nil {
		if err := a.live.bridge.SetTunables(bridge.Tunables{
			SystemPrompt:  running.Bridge.SystemPrompt,
			EditInterval:  running.Bridge.EditInterval,
			MaxInputChars: running.Bridge.MaxInputChars,
			QueueSize:     running.Bridge.QueueSize,
			UserRateLimit: running.Bridge.UserRateLimit,
			ReplyAs:       bridge.ReplyAs(running.Bridge.ReplyAs),
		}); err != nil {
			// Validate already refused these values; keep the old ones.
			return current, reloadResult{}, fmt.Errorf("reload %s: %w", path, err)
		}
	}
	for _, p := range a.live.platforms {
		if s, ok := p.(allowListSetter); ok && p.Name() == "discord" {
			s.SetAllowLists(running.Discord.AllowedGuilds, running.Discord.AllowedChannels)
		}
	}
	if sw := switchOf(a.logger); sw != nil {
		sw.set(running.Log)
	}
	return running, res, nil
}

// logReload writes the one or two lines a reload leaves: what was applied,
// and, when any, the keys that need a restart.
func logReload(logger *slog.Logger, path string, res reloadResult, took time.Duration) {
	logger.Info("config reloaded", "file", path, "applied", keysOrNone(res.applied), "texts", cmp.Or(res.texts, "built-in"), "took", took)
	if slices.Contains(res.applied, "bridge.max_input_chars") {
		logger.Info("bridge.max_input_chars is applied to messages now; the length Discord allows in /ask and /note changes at the next `secondme-bridge commands sync`")
	}
	if len(res.kept) > 0 {
		logger.Warn("config reload: these keys changed but need a restart; the running values are kept until then",
			"keys", strings.Join(res.kept, ","))
	}
}

func keysOrNone(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ",")
}

// changedKeys lists the dotted YAML keys whose values differ between a and
// b, in file order. Secrets are compared by value (and never printed).
func changedKeys(a, b config.Config) []string {
	var keys []string
	walkConfig(reflect.ValueOf(a), reflect.ValueOf(b), "", func(path string, x, y reflect.Value) {
		if !equalValues(x, y) {
			keys = append(keys, path)
		}
	})
	return keys
}

func walkConfig(a, b reflect.Value, prefix string, fn func(path string, a, b reflect.Value)) {
	t := a.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		x, y := a.Field(i), b.Field(i)
		if x.Kind() == reflect.Struct {
			walkConfig(x, y, path, fn)
			continue
		}
		fn(path, x, y)
	}
}

func equalValues(x, y reflect.Value) bool {
	if x.Kind() == reflect.Slice && x.Len() == 0 && y.Len() == 0 {
		return true // nil and empty lists mean the same
	}
	return reflect.DeepEqual(x.Interface(), y.Interface())
}

// serveReloads reloads the config at path on every signal from c.reloads
// until ctx is done or the returned stop is called (which waits for a
// reload in progress). A refused file is logged and the running config
// kept; nothing here ever ends the process.
func (c *cli) serveReloads(ctx context.Context, a *app, running config.Config, path string, logger *slog.Logger) (stop func()) {
	if c.reloads == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.reloads:
			}
			start := time.Now()
			next, res, err := a.reload(running, path, c.getenv)
			if err != nil {
				logger.Error("config reload refused; the running config is kept", "file", path, "error", err)
				continue
			}
			running = next
			logReload(logger, path, res, time.Since(start))
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
