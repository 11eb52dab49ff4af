// Package hub fans stop requests out to the watchers of one process: the
// store.Cancels.Watch of the backends that live in one process (memory,
// bolt). Redis uses pub/sub instead.
package hub
