package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
)

// wireDiscordMetrics registers the Discord adapter's own counters. p is any
// adapter; only Discord's is touched.
func (a *app) wireDiscordMetrics(p platforms.Platform) {
	d, ok := p.(*discord.Adapter)
	if !ok {
		return
	}
	a.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "secondme_bridge_discord_global_held_total",
		Help: "Discord REST calls held back as they left the process so that no more than discord.global_rate leave in any 1.1 s (granted by the bot budget, then bunched on the way to the wire).",
	}, func() float64 { return float64(d.GlobalHeld()) }))
}
