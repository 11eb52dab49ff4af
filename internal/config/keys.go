package config

import (
	"reflect"
	"strings"
)

// EnvPrefix prefixes every environment variable that overrides a key.
const EnvPrefix = "SECONDME_BRIDGE_"

var (
	secretType     = reflect.TypeFor[Secret]()
	secretListType = reflect.TypeFor[SecretList]()
	configType     = reflect.TypeFor[Config]()
)

func isSecret(t reflect.Type) bool { return t == secretType || t == secretListType }

func envName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// yamlName returns the YAML key of a struct field ("" if it has none).
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// walkFields calls fn for every leaf field (a non-struct field) of the struct
// v, with its dotted YAML path.
func walkFields(v reflect.Value, prefix string, fn func(path string, field reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		path := joinPath(prefix, name)
		if f := v.Field(i); f.Kind() == reflect.Struct && f.Type() != secretType {
			walkFields(f, path, fn)
		} else {
			fn(path, f)
		}
	}
}

// fieldTypeAt returns the type of the field at a dotted YAML path of
// Config (nil if there is none).
func fieldTypeAt(path string) reflect.Type {
	t := configType
	for _, name := range strings.Split(path, ".") {
		f, ok := fieldByYAML(t, name)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return t
}

// fieldByYAML finds the field of struct type t with YAML key name.
func fieldByYAML(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
