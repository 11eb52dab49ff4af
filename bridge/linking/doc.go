// Package linking connects a chat identity (a Discord or Slack user) to a
// SecondMe account and keeps that account's OAuth token usable.
//
// The flow is platform-neutral:
//
//  1. The bridge engine, on a link command (/link on Discord, /secondme
//     link on Slack) that an adapter delivered as an event, asks
//     [Linker.StartLink] (bridge/commands/account.go, cmdLink) for a one-time URL
//     {public_url}/link/{id} and shows it only to the user who asked;
//     adapters never call the Linker.
//     Link ids are 256 random bits, valid LinkTTL (10 minutes), single use,
//     and creation is rate-limited per user (5 per 10 minutes, shared by
//     every replica through store.Budgets).
//  2. Opening the URL (GET) consumes nothing: it shows a confirmation page
//     naming the chat account being linked (platform, server or workspace,
//     display name) and a Continue button, and sets a CSRF cookie
//     (SameSite=Strict). Link previewers (GET or HEAD) cannot burn a link.
//  3. Continue (POST /link/{id}, with the page's CSRF token matching its
//     cookie, and not from another origin) consumes the id, creates a fresh
//     server-side OAuth state bound to the same [store.PendingLink] and to
//     the SHA-256 of a random nonce set in an HttpOnly, SameSite=Lax cookie
//     of this browser (__Host- and Secure behind an https public URL), and
//     redirects to SecondMe's authorize page.
//  4. GET /oauth/callback consumes the state atomically and refuses it
//     unless this browser holds the nonce: a victim who approves an
//     attacker's authorize URL, or a phone that hands the authorize step to
//     another app and returns to another browser, gets a page saying to
//     finish in the browser where the link was opened; nothing is linked and
//     the code is never exchanged. Otherwise it exchanges the code, reads
//     user/info and auth/me, stores the link (the store encrypts the
//     tokens; a different SecondMe account than before drops the old
//     account's conversations), shows a result page naming both accounts
//     and what to do next, and tells the platform through [LinkNotifier].
//     The user that gets linked is always the one bound to the state:
//     nothing in the query string can choose it.
//
// Pages name the link command of the reader's own platform ([Platform]) in
// the reader's language only when it is known (the pending link's locale;
// for pages shown once the link is gone, hints in the link URL's query and
// in the flow cookie), in English and Chinese otherwise. The store keeps
// link ids and states only as keyed hashes.
//
// A stored link that no configured key can open counts as no link: Token
// returns ErrNotLinked, a new link replaces it and Unlink removes it.
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
// a same-origin referrer policy (no link id or state leaves in a Referer;
// the Continue post still carries its Origin, which browsers send as
// "null" under no-referrer), nosniff and a Content-Security-Policy that forbids every
// external resource. No token, code or state is ever logged; states are
// correlated in logs by a short hash prefix only.
package linking
