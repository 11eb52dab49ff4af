package config

import "reflect"

// Key describes one leaf key of the configuration.
type Key struct {
	Path   string // YAML path, e.g. "secondme.oauth.client_secret"
	Env    string // e.g. "SECONDME_BRIDGE_SECONDME_OAUTH_CLIENT_SECRET"
	Secret bool   // true if the value is a Secret (then Env+"_FILE" works too)
}

// Keys lists every leaf key of Config, in declaration order.
func Keys() []Key {
	var keys []Key
	walkFields(reflect.ValueOf(&Config{}).Elem(), "", func(path string, f reflect.Value) {
		keys = append(keys, Key{Path: path, Env: envName(path), Secret: isSecret(f.Type())})
	})
	return keys
}
