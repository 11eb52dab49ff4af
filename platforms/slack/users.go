package slack

import (
	"context"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// User lookups (users.info with include_locale) are cached for an hour,
// per workspace (the team in the context, withTeam: the same user id seen
// through two installs is looked up with each one's token, and one
// workspace's missing scope does not hide the user in another); a failed
// lookup is remembered for five minutes so a missing scope does not cost a
// call per message.
const (
	userTTL        = time.Hour
	userFailTTL    = 5 * time.Minute
	userLookupWait = 5 * time.Second
	maxCachedUsers = 10000
)

type userInfo struct {
	displayName string
	locale      string
	expires     time.Time
}

type userCache struct {
	mu    sync.Mutex
	m     map[string]userInfo
	fetch func(ctx context.Context, id string) (*slackapi.User, error)
}

func newUserCache(fetch func(ctx context.Context, id string) (*slackapi.User, error)) *userCache {
	return &userCache{m: map[string]userInfo{}, fetch: fetch}
}

// get returns the display name and locale of user id in the workspace of
// ctx (withTeam; "" when unknown).
func (c *userCache) get(ctx context.Context, id string) (displayName, locale string) {
	now := time.Now()
	key := teamOf(ctx) + "/" + id
	c.mu.Lock()
	if u, ok := c.m[key]; ok && now.Before(u.expires) {
		c.mu.Unlock()
		return u.displayName, u.locale
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, userLookupWait)
	defer cancel()
	info := userInfo{expires: now.Add(userFailTTL)}
	if u, err := c.fetch(ctx, id); err == nil && u != nil {
		info = userInfo{displayName: displayNameOf(u), locale: u.Locale, expires: now.Add(userTTL)}
	} else if ctx.Err() != nil {
		return "", "" // cancelled: do not remember
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedUsers {
		for k, v := range c.m {
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedUsers {
			clear(c.m)
		}
	}
	c.m[key] = info
	return info.displayName, info.locale
}

func displayNameOf(u *slackapi.User) string {
	for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
		if n != "" {
			return n
		}
	}
	return ""
}

func (a *Adapter) fetchUser(ctx context.Context, id string) (*slackapi.User, error) {
	api, err := a.apiFor(ctx, teamOf(ctx))
	if err != nil {
		return nil, err
	}
	u, err := api.GetUserInfoContext(ctx, id, slackapi.GetUserInfoOptionIncludeLocale(true))
	if err != nil {
		a.log.Debug("slack users.info failed", "user", id, "err", redactErr(err))
		return nil, apiError(err)
	}
	return u, nil
}
