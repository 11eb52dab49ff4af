// Package liveness keeps a process's liveness record in the store (a beat
// every few seconds with a short TTL, left at the end of a graceful stop)
// and tells live owners from dead ones (AliveSet, DeadOwners, EarlierBoot),
// for the engine's recovery sweep. It owns no work of its own: what a dead
// owner left behind is taken over by the engine (package bridge).
package liveness
