// Package budget paces a process's platform calls against the budgets
// every replica shares (store.Budgets, GCRA buckets with a due time).
//
// Calls that must wait for their tokens (final parts, first texts, typing
// renewals) go through the Pacer's scheduler (Take, TakeFinal, Deliver):
// it grants them in priority order (Class), first come first served within
// a class, leases a budget many waiting calls share in batches
// (store.Budgets.Lease, unused tokens given back with Return) and takes the
// own budgets of the calls of one pass in one ReserveEach (a lone call's
// in one Reserve); a waiting call sleeps until it is
// granted, never polling the store. Intermediate updates do not queue: they
// give way while any call waits for one of their budgets, reserve their
// tokens ahead of their moment when that pays (ReserveInterim,
// CanReserveAhead), and are skipped rather than wait. The Pacer also
// remembers which budgets were found empty, keeps the store's round-trip
// statistics and counts its round trips and granted calls (Counts).
//
// It owns the pacing arithmetic: how late reserved or leased tokens may be
// spent (the spend grace), the margin a reservation is placed ahead by, the
// lead of a reservation. It never renders text, chooses a message or
// touches a conversation: callers pass the budgets (from
// platforms.Budgeter) and the operation.
package budget
