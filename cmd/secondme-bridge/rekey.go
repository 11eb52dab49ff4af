package main

import (
	"context"
	"fmt"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// cmdRekey re-seals every sealed record under store.encryption_key and
// prints the counts. It exits 1 when the store cannot be opened or walked;
// unreadable records are reported, not a failure (the bridge treats them
// as absent), but the line says what they mean.
func (c *cli) cmdRekey(ctx context.Context, args []string) error {
	path, err := c.parseConfigFlags("rekey", args)
	if err != nil {
		return err
	}
	cfg, err := c.loadValidConfig(path)
	if err != nil {
		return err
	}
	logger := newLogger(c.stderr, cfg.Log)
	st, err := openStore(ctx, cfg.Store, logger)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	rk, ok := st.(store.Rekeyer)
	if !ok {
		return fmt.Errorf("rekey: store driver %q cannot rekey", cfg.Store.Driver)
	}
	n, err := rk.Rekey(ctx)
	if err != nil {
		return fmt.Errorf("rekey %s: %w", describeStore(cfg.Store), err)
	}
	fmt.Fprintf(c.stdout, "rekey %s: %d re-sealed, %d already current, %d unreadable\n",
		describeStore(cfg.Store), n.Resealed, n.Current, n.Unreadable)
	if n.Unreadable > 0 {
		fmt.Fprintf(c.stdout, "%d record(s) open with none of the configured keys: they stay unreadable and count as not linked (their users link again).\n", n.Unreadable)
	}
	if len(cfg.Store.PreviousEncryptionKeys) > 0 {
		fmt.Fprintln(c.stdout, "Every readable record is now sealed under store.encryption_key; store.previous_encryption_keys can be removed once no pending link made before the change is still open (10 minutes).")
	}
	return nil
}
