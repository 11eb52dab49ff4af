package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the YAML key path ("discord.token") or, for environment
	// problems, the variable name.
	Key string
	// Line is the line in the config file, when known (0 otherwise).
	Line int
	// Message says what is wrong. It never contains a secret.
	Message string
}

// String formats the problem as "line N: key: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is returned by Parse, Load, ApplyEnv and Validate. It lists every
// problem found, so an operator can fix them all in one go.
type Error struct {
	// Summary says which stage failed, e.g. "invalid config" or
	// "parse config file config.yaml".
	Summary  string
	Problems []Problem
}

// Error formats the summary followed by one "  - problem" line per problem.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Summary)
	b.WriteString(":")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems.
type problems []Problem

func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) addLine(line int, key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Line: line, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when there is no problem, an *Error otherwise.
func (ps problems) err(summary string) error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Summary: summary, Problems: ps}
}
