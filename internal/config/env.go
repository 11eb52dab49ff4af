package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// ApplyEnv overrides keys from the environment: for each key, the variable
// SECONDME_BRIDGE_<PATH> (see Keys) replaces the value from the file. An
// empty variable counts as unset. Lists are comma-separated ("1,2,3"),
// booleans take strconv.ParseBool forms, durations time.ParseDuration forms.
//
// For every Secret key, <NAME>_FILE names a file whose content (minus
// trailing newlines) is the value; readFile reads it (os.ReadFile in
// production). Setting both <NAME> and <NAME>_FILE is an error.
//
// Every bad variable is reported, all at once, in an *Error; the values
// of secret variables are never echoed. On error c is left partly updated.
func (c *Config) ApplyEnv(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	var ps problems
	walkFields(reflect.ValueOf(c).Elem(), "", func(path string, f reflect.Value) {
		name := envName(path)
		val := getenv(name)
		secret := isSecret(f.Type())
		if secret {
			if file := getenv(name + "_FILE"); file != "" {
				if val != "" {
					ps.add(name, "set only one of %s and %s_FILE", name, name)
					return
				}
				data, err := readFile(file)
				if err != nil {
					ps.add(name+"_FILE", "read secret file: %v", err)
					return
				}
				val = strings.TrimRight(string(data), "\r\n")
				if val == "" {
					ps.add(name+"_FILE", "file %s is empty", file)
					return
				}
			}
		}
		if val == "" {
			return
		}
		if err := setFromString(f, val); err != nil {
			if secret {
				ps.add(name, "%s", err)
			} else {
				ps.add(name, "%s, got %q", err, val)
			}
		}
	})
	c.normalize()
	return ps.err("invalid environment")
}

// setFromString parses s into the leaf field f. Its errors never contain s.
func setFromString(f reflect.Value, s string) error {
	switch {
	case f.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf(`want a duration such as "30s" or "10m"`)
		}
		f.SetInt(int64(d))
	case f.Type() == secretListType:
		var items SecretList
		for item := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, Secret(item))
			}
		}
		f.Set(reflect.ValueOf(items))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("want a whole number")
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from the environment (type %s)", f.Type())
	}
	return nil
}
