// Package i18n is the one message catalog of secondme-bridge: every
// user-facing text (chat messages, the link pages, the Discord command
// names and descriptions) in every language, one YAML file per language
// under locales/, embedded at build time. Adding a language is adding one
// file: copy locales/en.yaml, translate it, set its header (language,
// matches, discord_locale, html_lang). A test checks that every file has
// exactly English's keys, the same fmt verbs and parsable page templates.
//
// The catalogs are loaded once, at init, and are read-only afterwards:
// every function is safe for concurrent use and does no I/O. A malformed
// embedded file panics at init (it is a build defect, caught by the tests).
package i18n
