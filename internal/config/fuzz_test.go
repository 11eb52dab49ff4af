package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every failure
// is an *Error with at least one problem.
func FuzzParse(f *testing.F) {
	for _, path := range []string{exampleFile, "testdata/valid.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("http: {listen: 1, <<: {public_url: x}}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz")
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("Parse error %v is not an *Error with problems", err)
			}
			return
		}
		_ = cfg.Validate() // must not panic either
	})
}
