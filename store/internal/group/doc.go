// Package group hands the calls that arrive while a batch is being sent
// to the next batch, so that concurrent callers share one round trip to a
// store (Redis's pipeline, bolt's fsynced transaction) instead of queueing
// for one each. A call that finds no batch under way is sent at once, by
// its own goroutine, so a lone call waits no longer than it would alone;
// or, with Group.OwnStack (bolt's commits, which run deep), by a
// goroutine started for the batch, so that no caller's stack holds it.
package group
