package format

import "testing"

func TestHeal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello there.", "Hello there."},
		{"empty", "", ""},
		{"unclosed bold", "Here is **bold", "Here is **bold**"},
		{"bold before trailing space", "Here is **bold ", "Here is **bold** "},
		{"dangling bold removed", "Here is **", "Here is "},
		{"closed bold", "a **b** c", "a **b** c"},
		{"underscore bold", "__init__ and __bold", "__init__ and __bold__"},
		{"snake case untouched", "my_var_name and x__y", "my_var_name and x__y"},
		{"strike", "a ~~strike", "a ~~strike~~"},
		{"inline code", "use `code", "use `code`"},
		{"dangling backtick removed", "use `", "use "},
		{"backtick kept when removal would open a fence", "0```\n```0`", "0```\n```0` `"},
		{"double backtick code", "``code`", "``code` ``"},
		{"emphasis around code", "**bold `code` more", "**bold `code` more**"},
		{"code inside bold", "**bold and `code", "**bold and `code`**"},
		{"nested closes in order", "**bold ~~strike", "**bold ~~strike~~**"},
		{"spaced stars are literal", "2 ** 3 is eight", "2 ** 3 is eight"},
		{"escaped star", `a \** b`, `a \** b`},
		{"list bullets", "* one\n* item **two", "* one\n* item **two**"},
		{"rule", "above\n\n***\n", "above\n\n***\n"},
		{"only last paragraph", "old **open\n\nnew text", "old **open\n\nnew text"},
		{"unclosed fence", "```go\nfmt.Println(1)", "```go\nfmt.Println(1)\n```"},
		{"unclosed fence after newline", "```go\nx\n", "```go\nx\n```"},
		{"half-typed closer dropped", "```go\nx\n``", "```go\nx\n```"},
		{"longer fence", "````md\n```go\nx\n```\n", "````md\n```go\nx\n```\n````"},
		{"fence with no content held back", "Intro\n```go", "Intro\n"},
		{"empty fence held back", "Intro **x\n```go\n", "Intro **x**\n"},
		{"closed fence then text", "```\ncode **x\n```\nafter **y", "```\ncode **x\n```\nafter **y**"},
		{"windows fence", "```go\r\nx\r\n", "```go\r\nx\r\n```"},
		{"inline fence is code span", "run ```go build", "run ```go build```"},
		{"table header held back", "Text\n| a | b |", "Text\n"},
		{"table header with newline held back", "Text\n| a | b |\n", "Text\n"},
		{"lone header held back", "| a | b |", ""},
		{"partial separator held back", "Text\n| a | b |\n|---|", "Text\n"},
		{"separator missing dashes", "| a | b |\n|---|  |", ""},
		{"complete separator kept", "Text\n| a | b |\n|---|---|", "Text\n| a | b |\n|---|---|"},
		{"body row kept", "| a | b |\n|---|---|\n| 1 | 2", "| a | b |\n|---|---|\n| 1 | 2"},
		{"prose pipe kept", "a | b", "a | b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Heal(tc.in); got != tc.want {
				t.Errorf("Heal(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
