// Package budget paces a process's platform updates against the budgets
// every replica shares (store.Budgets, GCRA buckets with a due time): the
// Pacer remembers which budgets were found empty and which ones final
// updates wait for, keeps the store's round-trip statistics, reserves an
// intermediate update's tokens ahead of its moment when that pays
// (ReserveInterim, CanReserveAhead), takes a final update's tokens however
// long that takes (TakeFinal), and delivers an update that must happen
// through 429s and transient errors (Deliver).
//
// It owns the pacing arithmetic: how late reserved tokens may be spent
// (the spend grace), the margin a reservation is placed ahead by, the lead
// of a reservation. It never renders text, chooses a message or touches a
// conversation: callers pass the budgets (from platforms.Budgeter) and the
// operation.
package budget
