package loadtest

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// dropKeys deletes the keys a run left under prefix (links, sessions,
// buckets), best effort: they would otherwise stay in the Redis the
// run shares with the store tests.
func dropKeys(url, prefix string) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			c.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Unlink(ctx, batch...)
	}
}
