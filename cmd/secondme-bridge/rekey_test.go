package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// newKey is a second valid store.encryption_key.
const newKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

// strangerKey is a key the rekeyed config does not know.
const strangerKey = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="

// rekey rewrites every record sealed under the previous key and counts
// them; afterwards the new key alone opens them. Run on bolt and on a real
// Redis.
func TestRekeyCommand(t *testing.T) {
	t.Parallel()
	t.Run("bolt", func(t *testing.T) {
		t.Parallel()
		path := writeConfig(t, minimalYAML)
		cfg, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		testRekey(t, cfg.Store, path, nil)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		redisURL := testRedisURL(t)
		path := writeConfig(t, minimalYAML)
		prefix := uniquePrefix(t)
		env := map[string]string{
			"SECONDME_BRIDGE_STORE_DRIVER":     "redis",
			"SECONDME_BRIDGE_STORE_REDIS_URL":  redisURL,
			"SECONDME_BRIDGE_STORE_KEY_PREFIX": prefix,
		}
		cfg := config.Store{Driver: config.DriverRedis, RedisURL: config.Secret(redisURL), KeyPrefix: prefix}
		testRekey(t, cfg, path, env)
	})
}

func testRekey(t *testing.T, cfg config.Store, path string, env map[string]string) {
	ctx := t.Context()
	users := []store.UserKey{{Platform: "discord", User: "rk-1"}, {Platform: "slack", Workspace: "T1", User: "rk-2"}}
	stranger := store.UserKey{Platform: "discord", User: "rk-3"}
	put := func(key string, links ...store.UserKey) {
		c := cfg
		c.EncryptionKey = config.Secret(key)
		st, err := openStore(ctx, c, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = st.Close() }()
		for _, u := range links {
			l := store.Link{Key: u, SecondMeUserID: "sm-" + u.User, Token: store.Token{AccessToken: "at-" + u.User, RefreshToken: "rt-" + u.User}, CreatedAt: time.Now()}
			if err := st.Links().PutLink(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(testKey, users...)
	put(strangerKey, stranger)

	if env == nil {
		env = map[string]string{}
	}
	env["SECONDME_BRIDGE_STORE_ENCRYPTION_KEY"] = newKey
	env["SECONDME_BRIDGE_STORE_PREVIOUS_ENCRYPTION_KEYS"] = testKey
	code, out, errOut := runCLI(t, env, "rekey", "--config", path)
	if code != exitOK || !strings.Contains(out, ": 2 re-sealed, 0 already current, 1 unreadable") {
		t.Fatalf("rekey = %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, testKey) || strings.Contains(out+errOut, newKey) {
		t.Error("rekey printed a key")
	}
	code, out, _ = runCLI(t, env, "rekey", "--config", path)
	if code != exitOK || !strings.Contains(out, ": 0 re-sealed, 2 already current, 1 unreadable") {
		t.Errorf("second rekey = %d %s", code, out)
	}

	// The new key alone now opens both; the stranger's link is absent.
	c := cfg
	c.EncryptionKey = newKey
	st, err := openStore(ctx, c, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	for _, u := range users {
		l, err := st.Links().GetLink(ctx, u)
		if err != nil || l.Token.AccessToken != "at-"+u.User {
			t.Errorf("after rekey, new key alone: %v: %v", u, err)
		}
		_ = st.Links().DeleteLink(ctx, u)
	}
	if _, err := st.Links().GetLink(ctx, stranger); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unreadable link: err = %v, want not found", err)
	}
	_ = st.Links().DeleteLink(ctx, stranger)

	// A bad previous key is a config error naming the key, not the value.
	env["SECONDME_BRIDGE_STORE_PREVIOUS_ENCRYPTION_KEYS"] = "short-key-value"
	code, _, errOut = runCLI(t, env, "rekey", "--config", path)
	if code != exitFailure || !strings.Contains(errOut, "store.previous_encryption_keys[0]") || strings.Contains(errOut, "short-key-value") {
		t.Errorf("rekey with a bad previous key = %d %s", code, errOut)
	}
}
