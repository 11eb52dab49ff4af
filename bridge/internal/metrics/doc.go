// Package metrics holds the bridge's Prometheus collectors (Set), one set
// per Bridge, shared by the engine (package bridge), the renderer
// (bridge/render) and the pacer (bridge/budget). It only counts: it owns
// no other state and calls nothing.
package metrics
