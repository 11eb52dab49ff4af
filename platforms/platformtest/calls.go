package platformtest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// do runs one call: latency, hook, injected failure, then apply under the
// lock; it records the call whatever the outcome.
func (p *Platform) do(ctx context.Context, c Call, apply func(c *Call) error) (Call, error) {
	err := p.wait(ctx)
	if err == nil {
		p.mu.Lock()
		hook := p.hook
		p.mu.Unlock()
		if hook != nil {
			err = hook(c)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		if q := p.failures[c.Kind]; len(q) > 0 {
			err, p.failures[c.Kind] = q[0], q[1:]
		}
	}
	if err == nil {
		err = apply(&c)
	}
	c.Seq, c.At, c.Err = len(p.calls)+1, time.Now(), err
	p.calls = append(p.calls, c)
	p.notifyLocked()
	return c, err
}

// wait applies Options.Latency.
func (p *Platform) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("platformtest: %w", err)
	}
	if p.opts.Latency <= 0 {
		return nil
	}
	t := time.NewTimer(p.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("platformtest: %w", ctx.Err())
	}
}

// checkMessage validates a message against the platform's limits.
func (p *Platform) checkMessage(m platforms.Message) error {
	if utf8.RuneCountInString(m.Text) > p.opts.Limits.MaxMessageChars {
		return platforms.ErrTooLong
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Buttons) == 0 {
		return ErrEmptyMessage
	}
	return nil
}

// lookupLocked finds a live message. p.mu must be held.
func (p *Platform) lookupLocked(ref platforms.MessageRef) (*Message, error) {
	m, ok := p.msgs[ref.ID]
	if !ok || m.Deleted || m.Ref.Channel != ref.Channel {
		return nil, ErrUnknownMessage
	}
	return m, nil
}

// createLocked stores a new message. p.mu must be held.
func (p *Platform) createLocked(to platforms.Target, text string, buttons []platforms.LinkButton, s StreamState) platforms.MessageRef {
	p.nextID++
	ref := platforms.MessageRef{Channel: to.Channel, ID: platforms.MessageID("m" + strconv.Itoa(p.nextID))}
	now := time.Now()
	p.msgs[ref.ID] = &Message{
		Ref: ref, Target: to, Text: text, Buttons: slices.Clone(buttons),
		Stream: s, Created: now, Updated: now,
	}
	p.order = append(p.order, ref.ID)
	return ref
}

func (p *Platform) send(ctx context.Context, to platforms.Target, m platforms.Message) (platforms.MessageRef, error) {
	c := Call{Kind: CallSend, Target: to, Text: m.Text, Buttons: slices.Clone(m.Buttons), Stop: cloneStop(m.Stop), As: clonePersona(platforms.PersonaOf(m))}
	c, err := p.do(ctx, c, func(c *Call) error {
		if err := p.checkMessage(m); err != nil {
			return fmt.Errorf("send message: %w", err)
		}
		c.Ref = p.createLocked(to, m.Text, m.Buttons, StreamNone)
		p.msgs[c.Ref.ID].Stop = cloneStop(m.Stop)
		p.msgs[c.Ref.ID].As = c.As
		return nil
	})
	return c.Ref, err
}

func (p *Platform) edit(ctx context.Context, ref platforms.MessageRef, m platforms.Message) (platforms.MessageRef, error) {
	c := Call{Kind: CallEdit, Ref: ref, Text: m.Text, Buttons: slices.Clone(m.Buttons), Stop: cloneStop(m.Stop), As: clonePersona(platforms.PersonaOf(m))}
	c, err := p.do(ctx, c, func(c *Call) error {
		msg, err := p.lookupLocked(ref)
		if err == nil {
			err = p.checkMessage(m)
		}
		if err != nil {
			return fmt.Errorf("edit message: %w", err)
		}
		msg.Text, msg.Buttons, msg.Stop, msg.Updated = m.Text, slices.Clone(m.Buttons), cloneStop(m.Stop), time.Now()
		msg.Edits++
		if p.opts.MoveOnEdit {
			c.MovedTo = p.moveLocked(msg)
		}
		return nil
	})
	switch {
	case err != nil:
		return platforms.MessageRef{}, err
	case c.MovedTo != platforms.MessageRef{}:
		return c.MovedTo, nil
	}
	return ref, nil
}

// moveLocked gives msg a new id. p.mu must be held.
func (p *Platform) moveLocked(msg *Message) platforms.MessageRef {
	old := msg.Ref.ID
	p.nextID++
	msg.Ref.ID = platforms.MessageID("m" + strconv.Itoa(p.nextID))
	delete(p.msgs, old)
	p.msgs[msg.Ref.ID] = msg
	p.order[slices.Index(p.order, old)] = msg.Ref.ID
	return msg.Ref
}

func (p *Platform) canStream(to platforms.Target) bool {
	p.mu.Lock()
	unsupported := p.unsupported
	p.mu.Unlock()
	if unsupported {
		return false
	}
	return p.opts.CanStream == nil || p.opts.CanStream(to)
}

// checkStreamLocked returns the permanent streaming failure, if set.
func (p *Platform) checkStreamLocked(op string) error {
	if p.unsupported {
		return fmt.Errorf("%s: %w", op, platforms.ErrStreamUnsupported)
	}
	return nil
}

func (p *Platform) startStream(ctx context.Context, to platforms.Target, text string) (platforms.MessageRef, error) {
	return p.startStreamAs(ctx, to, text, nil)
}

// startStreamAs opens a stream under as (nil: the bot); the message keeps
// that identity (Message.As).
func (p *Platform) startStreamAs(ctx context.Context, to platforms.Target, text string, as *platforms.Persona) (platforms.MessageRef, error) {
	c := Call{Kind: CallStartStream, Target: to, Text: text, As: clonePersona(platforms.PersonaOf(platforms.Message{As: as}))}
	c, err := p.do(ctx, c, func(c *Call) error {
		if err := p.checkStreamLocked("start stream"); err != nil {
			return err
		}
		if p.opts.MaxStreamChars > 0 && utf8.RuneCountInString(text) > p.opts.MaxStreamChars {
			return fmt.Errorf("start stream: %w", platforms.ErrTooLong)
		}
		c.Ref = p.createLocked(to, text, nil, StreamOpen)
		p.msgs[c.Ref.ID].As = c.As
		return nil
	})
	return c.Ref, err
}

func (p *Platform) appendStream(ctx context.Context, ref platforms.MessageRef, delta string) error {
	_, err := p.do(ctx, Call{Kind: CallAppendStream, Ref: ref, Text: delta}, func(*Call) error {
		if err := p.checkStreamLocked("append stream"); err != nil {
			return err
		}
		msg, err := p.openStreamLocked(ref)
		if err != nil {
			return fmt.Errorf("append stream: %w", err)
		}
		if p.opts.MaxStreamChars > 0 && utf8.RuneCountInString(msg.Text+delta) > p.opts.MaxStreamChars {
			return fmt.Errorf("append stream: %w", platforms.ErrTooLong)
		}
		msg.Text += delta
		msg.Appends++
		msg.Updated = time.Now()
		return nil
	})
	return err
}

func (p *Platform) stopStream(ctx context.Context, ref platforms.MessageRef) error {
	_, err := p.do(ctx, Call{Kind: CallStopStream, Ref: ref}, func(*Call) error {
		if err := p.checkStreamLocked("stop stream"); err != nil {
			return err
		}
		msg, err := p.openStreamLocked(ref)
		if err != nil {
			return fmt.Errorf("stop stream: %w", err)
		}
		msg.Stream, msg.Updated = StreamClosed, time.Now()
		return nil
	})
	return err
}

// openStreamLocked finds a live message that is an open stream.
func (p *Platform) openStreamLocked(ref platforms.MessageRef) (*Message, error) {
	msg, err := p.lookupLocked(ref)
	if err != nil {
		return nil, err
	}
	if msg.Stream != StreamOpen {
		return nil, ErrStreamNotOpen
	}
	return msg, nil
}

func (p *Platform) typing(ctx context.Context, to platforms.Target) error {
	_, err := p.do(ctx, Call{Kind: CallTyping, Target: to}, func(*Call) error { return nil })
	return err
}

func (p *Platform) sendEphemeral(ctx context.Context, to platforms.Target, m platforms.Message) error {
	c := Call{Kind: CallEphemeral, Target: to, Text: m.Text, Buttons: slices.Clone(m.Buttons)}
	_, err := p.do(ctx, c, func(*Call) error {
		if err := p.checkMessage(m); err != nil {
			return fmt.Errorf("send ephemeral: %w", err)
		}
		return nil
	})
	return err
}

func (p *Platform) delete(ctx context.Context, ref platforms.MessageRef) error {
	_, err := p.do(ctx, Call{Kind: CallDelete, Ref: ref}, func(*Call) error {
		msg, err := p.lookupLocked(ref)
		if err != nil {
			return fmt.Errorf("delete message: %w", err)
		}
		msg.Deleted, msg.Updated = true, time.Now()
		return nil
	})
	return err
}

// openThread opens a thread on to.ReplyTo; the thread's id is the starter
// message's id, as on Discord.
func (p *Platform) openThread(ctx context.Context, to platforms.Target, name string) (platforms.ThreadID, error) {
	c, err := p.do(ctx, Call{Kind: CallOpenThread, Target: to, Text: name}, func(c *Call) error {
		if to.ReplyTo == "" {
			return fmt.Errorf("open thread: %w", ErrNoStarter)
		}
		c.Thread = platforms.ThreadID(to.ReplyTo)
		return nil
	})
	return c.Thread, err
}

// cloneStop copies a Stop control, so the record does not share the
// caller's.
func cloneStop(s *platforms.StopControl) *platforms.StopControl {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// clonePersona copies as (nil stays nil), so that a recorded call never
// shares the caller's value.
func clonePersona(as *platforms.Persona) *platforms.Persona {
	if as == nil {
		return nil
	}
	c := *as
	return &c
}
