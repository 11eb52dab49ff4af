package config

import "log/slog"

// Secret is a configuration value that must never be printed or logged:
// tokens, client secrets, the encryption key, and URLs that may carry a
// password. String, GoString and LogValue return "[redacted]" (or "" when
// the secret is empty, so an unset secret is still visible as such). Use
// Value to get the secret itself.
type Secret string

const redacted = "[redacted]"

// Value returns the secret in the clear. Call it only where the secret is
// handed to the code that uses it, never for printing.
func (s Secret) Value() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is like String, so %#v does not reveal the secret either.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON, YAML and any other text encoding,
// so dumping a Config never leaks it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SecretList is a list of secrets (store.previous_encryption_keys). In the
// environment it is comma-separated, and its _FILE form holds one secret a
// line (or comma-separated). It prints as "[redacted]" ("" when empty).
type SecretList []Secret

// Values returns the secrets in the clear.
func (l SecretList) Values() []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.Value()
	}
	return out
}

// String returns "[redacted]", or "" for an empty list.
func (l SecretList) String() string {
	if len(l) == 0 {
		return ""
	}
	return redacted
}

// GoString is like String.
func (l SecretList) GoString() string { return `config.SecretList("` + l.String() + `")` }

// LogValue implements slog.LogValuer.
func (l SecretList) LogValue() slog.Value { return slog.StringValue(l.String()) }
