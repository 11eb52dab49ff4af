package memory

import (
	"encoding/json"
	"fmt"
)

// Dump returns every value d holds, as JSON, for the encryption test.
func Dump(d *Data) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []byte
	for k, v := range d.links {
		out = fmt.Appendf(out, "%v %s\n", k, v)
	}
	for _, convs := range d.convs {
		for k, it := range convs {
			v, _ := json.Marshal(it.v)
			out = fmt.Appendf(out, "%v %s\n", k, v)
		}
	}
	for k, it := range d.states {
		v, _ := json.Marshal(it.v)
		out = fmt.Appendf(out, "%s %s\n", k, v)
	}
	for k, r := range d.replies {
		v, _ := json.Marshal(r)
		out = fmt.Appendf(out, "%s %s\n", k, v)
	}
	return out
}

// Entries counts the entries d holds that expire (expired or not).
func Entries(d *Data) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.states) + len(d.dedupe) + len(d.locks) + len(d.tokens) + len(d.gcra)
	for _, convs := range d.convs {
		n += len(convs)
	}
	return n
}
