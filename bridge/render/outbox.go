package render

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Outbox delivers the messages that are not a streaming reply: notices,
// private answers, and the final state of a reply another process left
// unfinished (FinishOrphan), through 429s and the platforms' budgets.
type Outbox struct {
	Pacer   *budget.Pacer
	Metrics *metrics.Set
	Log     *slog.Logger
	// Caps returns the abilities of a registered platform.
	Caps func(platforms.Platform) platforms.Caps
}

// ErrNoPrivate is returned by SendPrivate when the platform cannot show a
// message to one user only at that target.
var ErrNoPrivate = errors.New("no private channel to the user")

// Reply posts a short public message (a notice, an error) to the target,
// through 429s and budgets. Failures are logged.
func (o *Outbox) Reply(ctx context.Context, p platforms.Platform, to platforms.Target, msg string) {
	m := platforms.Message{Text: format.NeutralizeMentions(msg)}
	err := o.Pacer.Deliver(ctx, p.Name(), budget.SendBudgets(o.Caps(p).Budgeter, to), func(ctx context.Context) error {
		_, err := p.Send(ctx, to, m)
		return err
	})
	if err != nil {
		o.Metrics.Errors.WithLabelValues(text.KindPlatform).Inc()
		o.Log.Warn("send notice", "platform", p.Name(), "error", err)
	}
}

// CanPrivate reports whether a message can reach only the user at to.
func (o *Outbox) CanPrivate(p platforms.Platform, to platforms.Target) bool {
	return o.Caps(p).Ephemeraler != nil || to.DM || to.Interaction != ""
}

// SendPrivate sends m so that only the user sees it: ephemerally
// (platforms.Ephemeraler, which also answers an interaction privately), as
// a private interaction answer, or in a DM. It returns ErrNoPrivate when
// none is possible.
func (o *Outbox) SendPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, m platforms.Message) error {
	to.Ephemeral = true
	m.Text = format.NeutralizeMentions(m.Text)
	if ep := o.Caps(p).Ephemeraler; ep != nil {
		return o.Pacer.Deliver(ctx, p.Name(), nil, func(ctx context.Context) error { return ep.SendEphemeral(ctx, to, m) })
	}
	if !to.DM && to.Interaction == "" {
		return ErrNoPrivate
	}
	return o.Pacer.Deliver(ctx, p.Name(), nil, func(ctx context.Context) error {
		_, err := p.Send(ctx, to, m)
		return err
	})
}

// TellPrivate sends a private msg, falling back to a public one (for
// texts that are fine to show, like errors and invitations).
func (o *Outbox) TellPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, msg string) {
	err := o.SendPrivate(ctx, p, to, platforms.Message{Text: msg})
	if errors.Is(err, ErrNoPrivate) {
		o.Reply(ctx, p, to, msg)
		return
	}
	if err != nil {
		o.Metrics.Errors.WithLabelValues(text.KindPlatform).Inc()
		o.Log.Warn("send private notice", "platform", p.Name(), "error", err)
	}
}

// FinishOrphan delivers the final state of an orphaned reply (rec)
// without taking anything users saw away from it: a reply cut off in its
// final delivery (FinalParts recorded) gets the rest of it, as it would
// have shown, without a notice (nothing is missing); a native stream gets the
// notice appended and is stopped; an edited message gets its recorded text
// (never less than it showed) plus the notice, or, when both do not fit,
// keeps its text and the notice follows as a new message (a message that
// cannot be edited any more is posted anew: editOrRepost); a reply with no
// message recorded (written ahead, or a platform without Editor) gets the
// notice as a new message. Messages are sent and edited under the persona
// the reply was posted under (InflightReply.AsName), or as the bot.
func (o *Outbox) FinishOrphan(ctx context.Context, p platforms.Platform, rec store.InflightReply, notice string, log *slog.Logger) error {
	k := rec.Conversation
	to := platforms.Target{
		Workspace: platforms.WorkspaceID(k.Workspace), Channel: platforms.ChannelID(k.Channel), Thread: platforms.ThreadID(k.Thread),
		User: platforms.UserID(k.User), ReplyTo: platforms.MessageID(rec.ReplyTo),
	}
	caps := o.Caps(p)
	as := personaOf(rec)
	send := func(text string) error {
		return o.Pacer.Deliver(ctx, p.Name(), budget.SendBudgets(caps.Budgeter, to), func(ctx context.Context) error {
			_, err := p.Send(ctx, to, platforms.Message{Text: text, As: as})
			return err
		})
	}
	switch {
	case len(rec.FinalParts) > 0 && !rec.Native:
		return o.deliverOrphanFinal(ctx, p, caps, rec, as, send)
	case len(rec.Refs) == 0:
		return send(notice)
	case rec.Native && o.stopOrphanStream(ctx, p, caps, rec, notice, log):
		return nil
	default:
		return o.editOrphan(ctx, p, caps, rec, notice, as, send)
	}
}

// stopOrphanStream finishes an orphaned native stream: the notice is
// appended and the stream stopped (any process with the bot token can:
// the ref names the channel and the message). It reports success; on
// failure the caller edits the message instead.
func (o *Outbox) stopOrphanStream(ctx context.Context, p platforms.Platform, caps platforms.Caps, rec store.InflightReply, notice string, log *slog.Logger) bool {
	s := caps.Streamer
	if s == nil {
		return false
	}
	last := rec.Refs[len(rec.Refs)-1]
	ref := refOf(last)
	budgets := budget.UpdateBudgets(caps.Budgeter, ref)
	if err := o.Pacer.Deliver(ctx, p.Name(), budgets, func(ctx context.Context) error {
		return s.AppendStream(ctx, ref, "\n\n"+notice)
	}); err != nil {
		log.Warn("append the restart notice to an interrupted stream; editing it instead", "error", err)
		if err := s.StopStream(ctx, ref); err != nil {
			log.Debug("stop interrupted stream", "error", err)
		}
		return false
	}
	if err := o.Pacer.Deliver(ctx, p.Name(), budgets, func(ctx context.Context) error {
		return s.StopStream(ctx, ref)
	}); err != nil {
		log.Warn("stop an interrupted stream (its text and notice are shown)", "error", err)
	}
	return true
}

// editOrphan edits the orphan's last message to its recorded text plus the
// notice when both fit in one message, and otherwise to the recorded text
// alone (a preview at the full limit, as the reply showed it), sending the
// notice after it. Without Editor the notice is sent.
func (o *Outbox) editOrphan(ctx context.Context, p platforms.Platform, caps platforms.Caps, rec store.InflightReply, notice string, as *platforms.Persona, send func(string) error) error {
	e := caps.Editor
	if e == nil {
		return send(notice)
	}
	last := rec.Refs[len(rec.Refs)-1]
	ref := refOf(last)
	limit := p.Limits().MaxMessageChars
	if limit <= 0 {
		limit = 2000
	}
	body := format.NeutralizeMentions(rec.Text)
	text, after := notice, ""
	switch {
	case strings.TrimSpace(body) == "":
	case format.RuneLen(body)+2+format.RuneLen(notice) <= limit:
		text = format.Preview(body, limit-2-format.RuneLen(notice)) + "\n\n" + notice
	default:
		text, after = format.Preview(body, limit), notice
	}
	if err := o.editOrRepost(ctx, p, caps, ref, text, as, send); err != nil {
		return err
	}
	if after != "" {
		return send(after)
	}
	return nil
}

// editOrRepost edits the orphan's message ref to text. When the message
// cannot be edited (after Deliver's tries: it was deleted, or the platform
// refuses), it is deleted when the platform can and text is sent as a new
// message instead, as a live reply's final does (finishEdit), so that the
// reply still ends in a final state rather than being tried again by every
// sweep. Edit is not nil.
func (o *Outbox) editOrRepost(ctx context.Context, p platforms.Platform, caps platforms.Caps, ref platforms.MessageRef, text string, as *platforms.Persona, send func(string) error) error {
	err := o.Pacer.Deliver(ctx, p.Name(), budget.UpdateBudgets(caps.Budgeter, ref), func(ctx context.Context) error {
		_, err := caps.Editor.Edit(ctx, ref, platforms.Message{Text: text, As: as})
		return err
	})
	if err == nil || ctx.Err() != nil {
		return err
	}
	o.Log.Warn("edit an interrupted reply's message; posting its text anew", "platform", p.Name(), "error", err)
	if d := caps.Deleter; d != nil {
		if err := d.Delete(ctx, ref); err != nil {
			o.Log.Debug("delete an interrupted reply's message", "platform", p.Name(), "error", err)
		}
	}
	return send(text)
}

// deliverOrphanFinal finishes a reply cut off in its final delivery, as
// the reply would have (store.InflightReply.FinalParts): with no message
// recorded every part is sent; otherwise the last message is edited to the
// first part (without Editor it shows it already: the reply records parts
// after a message only once it is sent) and the others are sent after it.
// The parts come from the store, so they are checked again as the reply
// rendered them: mentions made inert, a part longer than the platform's
// limit split over as many messages as it needs, a blank part skipped
// (with a blank first part the last message is left as it is). The edit
// goes out even when the message shows that part already (the crash may
// have come after it): an edit to the same text changes nothing users see.
func (o *Outbox) deliverOrphanFinal(ctx context.Context, p platforms.Platform, caps platforms.Caps, rec store.InflightReply, as *platforms.Persona, send func(string) error) error {
	limit := p.Limits().MaxMessageChars
	if limit <= 0 {
		limit = 2000
	}
	fit := func(part string) []string {
		if strings.TrimSpace(part) == "" {
			return nil
		}
		return format.Split(format.NeutralizeMentions(part), limit)
	}
	first := fit(rec.FinalParts[0])
	var later []string
	switch {
	case len(rec.Refs) == 0:
		later = first
	case len(first) > 0:
		if caps.Editor != nil {
			if err := o.editOrRepost(ctx, p, caps, refOf(rec.Refs[len(rec.Refs)-1]), first[0], as, send); err != nil {
				return err
			}
		}
		later = first[1:]
	}
	for _, part := range rec.FinalParts[1:] {
		later = append(later, fit(part)...)
	}
	for _, m := range later {
		if err := send(m); err != nil {
			return err
		}
	}
	return nil
}

// personaOf is the persona an in-flight reply was posted under (nil: the
// bot).
func personaOf(rec store.InflightReply) *platforms.Persona {
	return platforms.PersonaOf(platforms.Message{As: &platforms.Persona{Name: rec.AsName, AvatarURL: rec.AsAvatarURL}})
}

// refOf is the platform reference of a recorded message.
func refOf(r store.ReplyRef) platforms.MessageRef {
	return platforms.MessageRef{Channel: platforms.ChannelID(r.Channel), ID: platforms.MessageID(r.ID), Extra: r.Extra}
}
