package render

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// nativeReserve is the number of code points kept free in a stream
// message, for the line that closes an open code fence at a rollover.
const nativeReserve = 8

// startNative opens the native stream with the first text. fallback
// reports that native streaming cannot serve this reply (the caller sends
// a message instead); otherwise ok reports whether the text is visible.
func (r *Renderer) startNative(ctx context.Context, text string, readyAt time.Time) (ok, fallback bool) {
	safe := text[:holdback(text)]
	if safe == "" {
		return false, false
	}
	part := safe[:cutAt(safe, r.maxChars-nativeReserve)]
	if err := r.env.Pacer.Take(r.fl.bctx, budget.ClassFirst, budget.SendBudgets(r.caps.Budgeter, r.to)); err != nil {
		return false, false
	}
	r.typing.Stop()
	start := r.env.Now()
	r.observeUpdate(readyAt)
	ref, err := r.startStream(ctx, format.NeutralizeMentions(part))
	if err != nil {
		var rl *platforms.RateLimitError
		if errors.As(err, &rl) {
			r.updateFailed(err, "start stream")
			return false, false
		}
		if !errors.Is(err, platforms.ErrStreamUnsupported) {
			r.log.Warn("start native stream; falling back to edits", "error", err)
		}
		r.streamer = nil
		return false, true
	}
	r.surf = nativeSurface{r}
	r.msg.refs = append(r.msg.refs, ref)
	r.msg.shown = part
	r.msg.streamRunes = runeLen(part)
	r.msg.appended = len(part)
	r.fl.lastUpdate = start
	r.st.updates++
	r.shownUpTo(r.msg.appended)
	r.visible(start)
	r.maybeRecord(ctx, true)
	return true, false
}

// startStream opens a stream message with text, under the reply's persona
// when it has one and the platform can (Caps.PersonaStreamer).
func (r *Renderer) startStream(ctx context.Context, text string) (platforms.MessageRef, error) {
	if ps := r.caps.PersonaStreamer; r.look.as != nil && ps != nil {
		return ps.StartStreamAs(ctx, r.to, text, r.look.as)
	}
	return r.streamer.StartStream(ctx, r.to, text)
}

// appendInterim appends the text not sent yet, up to upTo bytes (what the
// record covers), to the stream, its budget
// tokens in hand, ready being when the update was due (an intermediate
// update: not retried on a 429, the text then waits for the next one).
func (r *Renderer) appendInterim(ctx context.Context, ready time.Time, upTo int) time.Duration {
	text, shownLen, pendingSince, _ := r.snapshot()
	pending := text[shownLen:max(upTo, shownLen)]
	chunk := pending[:holdback(pending)]
	if chunk == "" {
		return 0 // the text now ends in a word that must wait
	}
	start := r.env.Now()
	r.observeUpdate(budget.Later(pendingSince, ready))
	err := r.appendChunk(ctx, chunk, len(chunk), false)
	r.fl.lastUpdate = start
	if err != nil {
		if errors.Is(err, platforms.ErrStreamUnsupported) {
			r.leaveNative(ctx)
			return 0
		}
		return r.interimFailed(err, "append to stream")
	}
	return 0
}

// appendChunk appends chunk, of which the first upstream bytes are reply
// text (the rest is a notice), rolling over to a new stream message before
// the platform's limit (closing an open code fence there and reopening it
// in the next message). Only a plain intermediate append is tried once;
// rollovers and finals go through deliver.
func (r *Renderer) appendChunk(ctx context.Context, chunk string, upstream int, final bool) error {
	for chunk != "" {
		room := r.maxChars - nativeReserve - r.msg.streamRunes
		if runeLen(chunk) <= room {
			return r.appendRaw(ctx, chunk, min(upstream, len(chunk)), final)
		}
		k := cutAt(chunk, max(room, 0))
		head, rest := chunk[:k], chunk[k:]
		closer, opener := fenceAcross(r.msg.shown + head)
		if head+closer != "" {
			if err := r.appendRaw(ctx, head+closer, min(upstream, len(head)), true); err != nil {
				return err
			}
		}
		upstream = max(upstream-len(head), 0)
		k = cutAt(rest, r.maxChars-nativeReserve-runeLen(opener))
		piece := rest[:k]
		if err := r.rollover(ctx, opener, piece, min(upstream, len(piece))); err != nil {
			return err
		}
		upstream = max(upstream-len(piece), 0)
		chunk = rest[k:]
	}
	return nil
}

// appendRaw appends piece to the current stream message.
func (r *Renderer) appendRaw(ctx context.Context, piece string, upstream int, must bool) error {
	ref := r.msg.refs[len(r.msg.refs)-1]
	send := format.NeutralizeMentions(piece)
	op := func(ctx context.Context) error { return r.streamer.AppendStream(ctx, ref, send) }
	var err error
	if must {
		err = r.env.Pacer.Deliver(ctx, r.p.Name(), budget.UpdateBudgets(r.caps.Budgeter, ref), op)
	} else {
		err = op(ctx)
	}
	if err != nil {
		return err
	}
	r.st.updates++
	r.msg.shown += piece
	r.msg.streamRunes += runeLen(piece)
	r.msg.appended += upstream
	r.shownUpTo(r.msg.appended)
	return nil
}

// rollover ends the current stream message and opens the next one with
// opener (the line reopening a code fence, or "") followed by piece, of
// which upstream bytes are reply text.
func (r *Renderer) rollover(ctx context.Context, opener, piece string, upstream int) error {
	ref := r.msg.refs[len(r.msg.refs)-1]
	if err := r.env.Pacer.Deliver(ctx, r.p.Name(), budget.UpdateBudgets(r.caps.Budgeter, ref), func(ctx context.Context) error {
		return r.streamer.StopStream(ctx, ref)
	}); err != nil {
		return err
	}
	first := opener + piece
	var nref platforms.MessageRef
	if err := r.env.Pacer.Deliver(ctx, r.p.Name(), budget.SendBudgets(r.caps.Budgeter, r.to), func(ctx context.Context) error {
		var err error
		nref, err = r.startStream(ctx, format.NeutralizeMentions(first))
		return err
	}); err != nil {
		return err
	}
	r.st.updates++
	r.msg.refs = append(r.msg.refs, nref)
	r.msg.start = r.msg.appended
	r.msg.prefix = opener
	r.msg.shown = first
	r.msg.streamRunes = runeLen(first)
	r.msg.appended += upstream
	r.shownUpTo(r.msg.appended)
	r.maybeRecord(ctx, true)
	return nil
}

// leaveNative falls back from a native stream to edits (or, without
// Editor, to sending the rest as new messages at the end) after the
// platform said native streaming is unsupported.
func (r *Renderer) leaveNative(ctx context.Context) {
	ref := r.msg.refs[len(r.msg.refs)-1]
	if err := r.streamer.StopStream(ctx, ref); err != nil {
		r.log.Debug("stop unsupported stream", "error", err)
	}
	r.surf, r.streamer = editSurface{r}, nil
	if r.caps.Editor != nil {
		r.msg.open = true
		return
	}
	r.msg.open, r.msg.start, r.msg.prefix = false, r.msg.appended, ""
}

// finishNative appends what is left (and the notice) and stops the stream.
func (r *Renderer) finishNative(ctx context.Context, text, suffix string) {
	rest := text[r.msg.appended:]
	if rest+suffix != "" {
		err := r.appendChunk(ctx, rest+suffix, len(rest), true)
		if errors.Is(err, platforms.ErrStreamUnsupported) {
			r.leaveNative(ctx)
			r.finishEdit(ctx, r.msg.prefix+text[r.msg.start:]+suffix)
			return
		}
		if err != nil {
			r.log.Error("deliver the end of a native stream; giving up", "error", err)
			r.failed = true
			return
		}
	}
	ref := r.msg.refs[len(r.msg.refs)-1]
	if err := r.env.Pacer.Deliver(ctx, r.p.Name(), budget.UpdateBudgets(r.caps.Budgeter, ref), func(ctx context.Context) error {
		return r.streamer.StopStream(ctx, ref)
	}); err != nil {
		r.log.Error("stop native stream; giving up", "error", err)
		r.failed = true
	}
}

// holdback returns how much of s may be sent now: all of it, unless its
// last word (after the last blank) could still grow into a mention
// ("@every…", "<!here"), which would escape NeutralizeMentions if sent in
// two pieces. Very long words go anyway.
func holdback(s string) int {
	i := strings.LastIndexAny(s, " \t\n")
	tail := s[i+1:]
	if len(tail) < 64 && strings.ContainsAny(tail, "@<") {
		return i + 1
	}
	return len(s)
}

// cutAt returns a byte offset into s at most room code points in, at the
// last line break or else the last blank of the second half of that span,
// or else exactly room code points in.
func cutAt(s string, room int) int {
	if room <= 0 {
		return 0
	}
	end, n := len(s), 0
	for i := range s {
		if n == room {
			end = i
			break
		}
		n++
	}
	if end == len(s) {
		return end
	}
	window := s[:end]
	half := len(window) / 2
	if i := strings.LastIndexByte(window, '\n'); i >= half {
		return i + 1
	}
	if i := strings.LastIndexAny(window, " \t"); i >= half {
		return i + 1
	}
	return end
}

// fenceAcross reports, when text ends inside a Markdown code fence, the
// text closing it at the end of this message and the line reopening it
// (with its language) at the start of the next, in format.Split's
// convention.
func fenceAcross(text string) (closer, opener string) {
	run, info, open := openFence(text)
	if !open {
		return "", ""
	}
	ticks := strings.Repeat("`", run)
	closer = ticks
	if !strings.HasSuffix(text, "\n") {
		// Cut mid-line: as format.Split does, the added line ends with a
		// space (invisible), so that format.Join can undo it exactly.
		closer = "\n" + ticks + " "
	}
	return closer, ticks + info + "\n"
}

// openFence scans text line by line and reports the code fence still open
// at its end: its backtick count and info string.
func openFence(text string) (run int, info string, open bool) {
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimLeft(line, " \t")
		n := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
		if n < 3 {
			continue
		}
		rest := trimmed[n:]
		switch {
		case !open && !strings.Contains(rest, "`"):
			run, info, open = n, strings.TrimSpace(rest), true
		case open && n >= run && strings.TrimSpace(rest) == "":
			run, info, open = 0, "", false
		}
	}
	return run, info, open
}
