// Package linkingtest is a browser for tests of the /link flow: it opens a
// one-time link, clicks Continue on the confirmation page and follows the
// redirects through SecondMe's authorize page (a secondmetest fake) back to
// the OAuth callback, keeping cookies as a browser does. Tests of other
// packages (the engine, the binary's end-to-end tests) use it so that they
// go through the same confirmation page as a user.
package linkingtest
