package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// tokenCache keeps users' links (with their access tokens) in memory for a
// short while, to spare a store round trip per message. An entry lives at
// most tokenCacheFor (1 min), and never closer than a minute to the token's
// expiry, so a refresh still happens through the Linker in time. It is
// dropped at once on a local /unlink, a completed /link, or a token the API
// refused; an /unlink on another replica is seen here within a minute.
type tokenCache struct {
	b    *Bridge
	mu   sync.Mutex
	m    map[store.UserKey]cachedLink
	puts int
}

type cachedLink struct {
	link  store.Link
	until time.Time
}

func newTokenCache(b *Bridge) *tokenCache {
	return &tokenCache{b: b, m: map[store.UserKey]cachedLink{}}
}

// get returns the user's link, from the cache or through Linker.Token.
// Errors are Linker.Token's (linking.ErrNotLinked, linking.ErrLinkBroken, …).
func (c *tokenCache) get(ctx context.Context, user store.UserKey) (store.Link, error) {
	now := c.b.now()
	c.mu.Lock()
	e, ok := c.m[user]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.link, nil
	}
	link, err := c.b.linker.Token(ctx, user)
	if err != nil {
		c.forget(user)
		return store.Link{}, err
	}
	c.put(user, link)
	return link, nil
}

// refresh replaces a token SecondMe refused, once, through the Linker.
func (c *tokenCache) refresh(ctx context.Context, user store.UserKey, failed string) (store.Link, error) {
	c.forget(user)
	link, err := c.b.linker.RefreshAfterFailure(ctx, user, failed)
	if err != nil {
		return store.Link{}, err
	}
	c.put(user, link)
	return link, nil
}

func (c *tokenCache) put(user store.UserKey, link store.Link) {
	now := c.b.now()
	until := now.Add(c.b.tokenCacheFor)
	if exp := link.Token.Expiry; !exp.IsZero() && exp.Add(-time.Minute).Before(until) {
		until = exp.Add(-time.Minute)
	}
	if !until.After(now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[user] = cachedLink{link: link, until: until}
	c.puts++
	if c.puts%1024 == 0 {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
	}
}

func (c *tokenCache) forget(user store.UserKey) {
	c.mu.Lock()
	delete(c.m, user)
	c.mu.Unlock()
}
