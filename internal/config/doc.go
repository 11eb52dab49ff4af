// Package config is the file format of secondme-bridge: one typed struct
// tree (Config) decoded from YAML, overridden from the environment and
// checked by one Validate call that reports every problem at once.
//
// It lives under internal/ rather than inside cmd/secondme-bridge so that
// tests in other packages (end-to-end tests of the command, bridge tests)
// can build a Config; nothing outside this module can import it. Packages
// other than cmd/secondme-bridge should not take a Config: cmd translates
// it into the constructor options of each package (STYLE.md §4.1).
//
// Loading happens in this order:
//
//  1. Default() fills every optional key with its default.
//  2. Parse strictly decodes the YAML file over the defaults. An unknown
//     key, a value of the wrong type and malformed YAML are errors that
//     name the key and its line. Keys left out keep their defaults.
//  3. ApplyEnv overrides keys from SECONDME_BRIDGE_<PATH> variables, where
//     <PATH> is the key path in upper snake case
//     (secondme.oauth.client_secret → SECONDME_BRIDGE_SECONDME_OAUTH_CLIENT_SECRET).
//     Lists are comma-separated. An empty variable counts as unset. Every
//     secret (type Secret) can also be read from a file named by
//     <NAME>_FILE; setting both is an error.
//  4. Validate reports every remaining problem in one *Error: required
//     keys, URL shapes, the encryption key's length, durations, enums,
//     platform settings, and values still equal to the placeholders of
//     config.example.yaml.
//
// Load does steps 1–3 for a file. Secrets are held in Secret, whose String
// and LogValue never reveal the value.
package config
