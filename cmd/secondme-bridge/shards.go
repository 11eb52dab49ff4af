package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/bridge/partition"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
)

// discordIdentifyWindow is Discord's identify window: max_concurrency
// identifies per 5 s, one per bucket.
const discordIdentifyWindow = 5 * time.Second

// wireDiscordShards turns on gateway sharding when discord.shards asks for
// it: the replicas share the shards through store leases
// (bridge/partition) and identify through a store-wide gate. It registers
// the shard metrics and the discord_shards /readyz line. p is any adapter;
// only Discord's is touched.
func (a *app) wireDiscordShards(p platforms.Platform) error {
	d, ok := p.(*discord.Adapter)
	if !ok {
		return nil
	}
	sharded, count, valid := a.cfg.Discord.ShardCount()
	if !valid {
		return fmt.Errorf("discord.shards %q: want auto or a count", a.cfg.Discord.Shards)
	}
	if !sharded {
		return nil
	}
	claimer, err := partition.New(partition.Config{
		Locks: a.store.Locks(), Name: "discord:shard", Owner: a.instanceID,
		TTL: a.cfg.Discord.ShardLeaseTTL, Logger: a.logger,
	})
	if err != nil {
		return err
	}
	gate, err := partition.NewGate(a.store.Budgets(), "discord:identify", discordIdentifyWindow)
	if err != nil {
		return err
	}
	if err := d.EnableSharding(discord.Sharding{Count: count, Claimer: claimer, Gate: gate}); err != nil {
		return err
	}
	a.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "secondme_bridge_discord_shards_total",
			Help: "Discord gateway shards of the deployment (0 until known).",
		}, func() float64 { return float64(d.Shards().Count) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "secondme_bridge_discord_shards_held",
			Help: "Discord gateway shards this replica holds.",
		}, func() float64 { return float64(len(d.Shards().Held)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "secondme_bridge_discord_shards_connected",
			Help: "Discord gateway shards this replica holds whose session is connected.",
		}, func() float64 { return float64(len(d.Shards().Ready)) }),
	)
	a.addComponent(shardsComponent{d})
	return nil
}

// shardsComponent shows the held shards on /readyz
// ({"name":"discord_shards","ok":true,"detail":"holds 0,2 of 4"}); it has
// nothing to run (the bridge runs the adapter) and is ok when every held
// shard is connected, holding none included. It informs and never makes
// the replica unready (readyzDetailed).
type shardsComponent struct{ d *discord.Adapter }

func (c shardsComponent) Name() string { return "discord_shards" }

// ReadyDetail lists the shards held ("holds 0,2 of 4", "holds none of 4").
func (c shardsComponent) ReadyDetail() string {
	st := c.d.Shards()
	held := "none"
	if len(st.Held) > 0 {
		held = ""
		for i, id := range st.Held {
			if i > 0 {
				held += ","
			}
			held += strconv.Itoa(id)
		}
	}
	total := "?"
	if st.Count > 0 {
		total = strconv.Itoa(st.Count)
	}
	return "holds " + held + " of " + total
}

func (c shardsComponent) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (c shardsComponent) Ready() bool { return c.d.Ready() }
