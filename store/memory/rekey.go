package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

var _ store.Rekeyer = (*Store)(nil)

// Rekey implements store.Rekeyer over the links, the pending links, the
// in-flight replies, the inbox entries and the workspace installs, with
// the Data locked throughout.
func (s *Store) Rekey(ctx context.Context) (store.RekeyCounts, error) {
	var c store.RekeyCounts
	err := s.do(ctx, "rekey memory store", func(d *Data, now time.Time) error {
		for key, data := range d.links {
			out, r, err := codec.RekeyLink(s.sealer, codec.User(key), data)
			if err != nil {
				return err
			}
			if codec.Count(&c, r); out != nil {
				d.links[key] = out
			}
		}
		for name, it := range d.states {
			if !it.live(now) {
				continue
			}
			out, r, err := codec.RekeyState(s.sealer, it.v)
			if err != nil {
				return err
			}
			if codec.Count(&c, r); out != nil {
				d.states[name] = item[[]byte]{v: out, exp: it.exp}
			}
		}
		for id, data := range d.replies {
			out, r, err := codec.RekeyReply(s.sealer, data)
			if err != nil {
				return err
			}
			if codec.Count(&c, r); out != nil {
				d.replies[id] = out
			}
		}
		for id, rec := range d.inbox {
			out, r, err := codec.RekeyInboxRecord(s.sealer, rec)
			if err != nil {
				return err
			}
			if codec.Count(&c, r); r == codec.RekeyResealed {
				d.inbox[id] = out
			}
		}
		for key, data := range d.installs {
			out, r, err := codec.RekeyInstall(s.sealer, key, data)
			if err != nil {
				return err
			}
			if codec.Count(&c, r); out != nil {
				d.installs[key] = out
			}
		}
		return nil
	})
	if err != nil {
		return store.RekeyCounts{}, err
	}
	return c, nil
}
