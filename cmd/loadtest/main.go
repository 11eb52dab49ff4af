package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/loadtest"
)

func main() {
	loadtest.MaybeRelay()
	loadtest.MaybeBareBot()
	loadtest.MaybeEdge()
	var cfg loadtest.Config
	flag.IntVar(&cfg.N, "n", 200, "conversations: users, channels and mentions fired at once")
	flag.StringVar(&cfg.Store, "store", "bolt", "the bridge's store: bolt or redis")
	flag.StringVar(&cfg.RedisURL, "redis", "redis://127.0.0.1:6379/0", "Redis URL for -store redis")
	flag.IntVar(&cfg.GlobalRate, "global-rate", 0, "the fake Discord's global limit, calls per second, and the bridge's discord.global_rate (0: the fake enforces none and the bridge's is out of reach)")
	flag.BoolVar(&cfg.TLS, "tls", false, "serve the fakes (SecondMe, Discord REST and gateway) over HTTPS with HTTP/2 from a test CA, as the real services are")
	flag.StringVar(&cfg.ReplyAs, "reply-as", "", "the bridge's bridge.reply_as: avatar (its default) or bot")
	flag.StringVar(&cfg.Binary, "bin", "bin/secondme-bridge", "the built secondme-bridge binary")
	flag.StringVar(&cfg.Profile, "profile", "", "write a CPU profile of the bridge during the load to this file")
	flag.DurationVar(&cfg.ProfileFor, "profile-for", 0, "how long the CPU profile runs from the mentions (0: n/50 s, 5 s to 30 s)")
	flag.StringVar(&cfg.Snapshot, "snapshot", "", "save the bridge's heap profile, goroutine dump and /metrics to `prefix`.heap, .goroutines and .metrics during the load")
	flag.DurationVar(&cfg.SnapshotAfter, "snapshot-after", 3*time.Second, "how long into the load the snapshot is taken")
	flag.DurationVar(&cfg.Timeout, "timeout", 15*time.Minute, "give up after this long")
	flag.Parse()
	cfg.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
	if rep.Exact != rep.N {
		fmt.Fprintf(os.Stderr, "loadtest: only %d of %d replies are exact\n", rep.Exact, rep.N)
		os.Exit(1)
	}
}
