package memory

import (
	"encoding/json"
	"fmt"
)

// Dump returns every key and value d holds, as it holds them (sealed
// fields sealed, one-time ids as their keyed hash), for tests that check
// what is kept at rest, as a bolt file or a Redis dump would show it.
func (d *Data) Dump() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []byte
	add := func(k, v any) {
		data, _ := json.Marshal(v)
		out = fmt.Appendf(out, "%v %s\n", k, data)
	}
	for k, v := range d.links {
		out = fmt.Appendf(out, "%v %s\n", k, v)
	}
	for _, convs := range d.convs {
		for k, it := range convs {
			add(k, it.v)
		}
	}
	for k, it := range d.states {
		out = fmt.Appendf(out, "%s %s\n", k, it.v)
	}
	for k, v := range d.replies {
		out = fmt.Appendf(out, "%s %s\n", k, v)
	}
	for k, v := range d.installs {
		out = fmt.Appendf(out, "%s %s\n", k, v)
	}
	for k, rec := range d.inbox {
		add(k, rec)
	}
	for k := range d.dedupe {
		add(k, nil)
	}
	return out
}
