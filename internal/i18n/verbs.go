package i18n

import (
	"regexp"
	"slices"
)

var (
	verbRE  = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)
	fieldRE = regexp.MustCompile(`\{\{[^}]*?\.(\w+)[^}]*\}\}`)
)

// verbs lists a text's fmt verbs in order ("%s", "%d"; "%%" is none): a
// translation must take the arguments the code passes, in that order.
func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v)
		}
	}
	return out
}

// fields lists the template fields ({{.Name}}) a page text uses, sorted
// and without repeats.
func fields(s string) []string {
	var out []string
	for _, m := range fieldRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}
