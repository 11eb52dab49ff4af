// Package text is the bridge's user-facing wording: the message catalog
// keys (Key, the "chat." texts of internal/i18n), the choice of language
// and command spelling for one user on one platform (Lang, Of), and the
// mapping of any error met while serving a user to what that user is told
// (UserError, Classify, the Kind labels of the errors metric).
//
// It owns words only: it sends nothing, stores nothing and never touches
// the engine's state. Platforms supply only their command prefix and
// localized command names (platforms.Limits).
package text
