// Package linking connects a chat identity (a Discord or Slack user) to a
// SecondMe account and keeps that account's OAuth token usable.
//
// The flow is platform-neutral:
//
//  1. The bridge engine, on a link command (/link on Discord, /secondme
//     link on Slack) that an adapter delivered as an event, asks
//     [Linker.StartLink] (bridge/commands.go, cmdLink) for a one-time URL
//     {public_url}/link/{id} and shows it only to the user who asked;
//     adapters never call the Linker.
//     Link ids are 256 random bits, valid LinkTTL (10 minutes), single use,
//     and creation is rate-limited per user (5 per 10 minutes, shared by
//     every replica through store.Budgets).
//  2. Opening the URL consumes the id and redirects the browser to
//     SecondMe's authorize page with a fresh server-side OAuth state bound
//     to the same [store.PendingLink]. HEAD requests never consume anything,
//     so link previewers cannot burn a link.
//  3. GET /oauth/callback consumes the state atomically, exchanges the code,
//     reads user/info and auth/me, stores the link (the store encrypts the
//     tokens), shows a bilingual result page and tells the platform through
//     [LinkNotifier]. The user that gets linked is always the one bound to
//     the state: nothing in the query string can choose it.
//
// Token lifecycle: [Linker.Token] returns a link whose access token is valid
// for at least RefreshAhead, refreshing it under the per-user store lock
// (one refresh per user across replicas) and, inside one process, through a
// singleflight group; [Linker.Fresh] does the same for a link the caller
// has just read, without reading it again when it is fresh.
// [Linker.RefreshAfterFailure] refreshes once after
// SecondMe rejected a token. A refresh token that SecondMe reports revoked,
// expired or invalid marks the link Broken; every later call returns
// [ErrLinkBroken] until the user links again.
//
// The pages are small self-contained HTML documents in English and
// Simplified Chinese, rendered with html/template, sent with no-store,
// no-referrer, nosniff and a Content-Security-Policy that forbids every
// external resource. No token, code or state is ever logged; states are
// correlated in logs by a short hash prefix only.
package linking
