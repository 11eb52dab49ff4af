// Package budget paces a process's platform calls against the budgets
// every replica shares (store.Budgets, GCRA buckets with a due time).
//
// Calls that must wait for their tokens (final parts, first texts, typing
// renewals) go through the Pacer's scheduler (Take, TakeFinal, Deliver):
// it asks for the calls of one pass in priority order (Class), first come
// first served within a class, in ONE store round trip
// (store.Budgets.ReserveEach with a Within): each call's budgets all or
// none, due at the earliest token of the budget most calls share (a bot's
// global limit) up to a horizon ahead, so that one round trip grants a
// batch of tokens due now and later, 1/Rate apart, with each call's own
// budget (its channel) checked at its moment. A granted call sleeps until
// its moment and spends within the grace (a call whose tokens the store
// placed 50 ms or more later than asked, a binding limit, until the
// first 50 ms spend tick in its grace, so that such calls wake the
// process a few at a time: spendTick); a waiting call sleeps until it is
// granted, never polling the store. Intermediate updates do not queue: they
// give way while a call waits for one of their budgets that is short for
// it (the store refused it, or the budget's tokens are granted ahead:
// scheduler.contended) or while this
// process's calls hold a budget's tokens ahead, reserve their tokens ahead
// of their moment when that pays (ReserveInterim, CanReserveAhead), and are
// skipped rather than wait. When the store reports its clock with its
// answers (store.Grant.Clock), the Pacer estimates that clock against its
// own from its fastest round trips (storeClock), so that tokens reserved
// ahead through a slow round trip are still spent at their moment, and a
// spike of the store's round trips does not stop reserving ahead. The
// scheduler's passes are at least dispatchEvery apart; a call that comes
// later than that after the last one is asked for at once. A store that
// decides in this process (store.LocalBudgets: bolt, whose budgets live in
// memory) costs no round trip, so nothing is held back to share one: a
// call other than a final runs a pass itself as it comes (a final, on a
// conversation's worker, leaves it to the loop, to keep the worker's stack
// small), the loop's passes are not spaced, and intermediate updates'
// reservations are not gathered. The Pacer also
// remembers which budgets were found empty, keeps the store's round-trip
// statistics and counts its round trips and granted calls (Counts).
//
// It owns the pacing arithmetic: how late reserved tokens may be spent
// (the spend grace), how far ahead a pass asks (the horizon), the margin a reservation is placed ahead by, the
// lead of a reservation. It never renders text, chooses a message or
// touches a conversation: callers pass the budgets (from
// platforms.Budgeter) and the operation.
package budget
