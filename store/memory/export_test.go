package memory

// Entries counts the entries d holds that expire (expired or not).
func Entries(d *Data) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.states) + len(d.dedupe) + len(d.cancels) + len(d.locks) + len(d.tokens) + len(d.gcra)
	for _, convs := range d.convs {
		n += len(convs)
	}
	return n
}
