package render

import (
	"context"
	"time"
)

// surface is how a reply's updates reach the platform: edits of a message
// showing a preview of the whole text (editSurface), or appends to a native
// stream (nativeSurface). A reply starts on the edit surface, which also
// serves a platform that can do neither (its only update is the final
// one); it moves to the native surface when its stream opens (startNative)
// and back when the platform turns native streaming down (leaveNative).
// The first message itself is shown by first, whatever the surface.
type surface interface {
	// due returns when the next intermediate update is due: ready (the
	// edit interval after the last update), or earlier for a native stream
	// when the pending text crossed the flush size at crossedAt (zero when
	// it did not).
	due(ready, crossedAt time.Time) time.Time
	// changed reports whether an intermediate update would show something
	// new of text, of which shownLen bytes are shown.
	changed(text string, shownLen int) bool
	// update makes an intermediate update showing the text up to upTo
	// bytes, its budget tokens in hand, ready being when it was due. It
	// returns how long to wait before trying again when it failed.
	update(ctx context.Context, ready time.Time, upTo int) time.Duration
	// finish delivers the final state: the whole text, then suffix (a
	// notice, or "").
	finish(ctx context.Context, text, suffix string)
	// native reports whether the reply is a native stream (the in-flight
	// record tells the recovery sweep how to finish it).
	native() bool
}

// editSurface sends the first text as a message and edits it to a preview
// of the whole text (platforms.Editor); the final text is split over as
// many messages as it needs.
type editSurface struct{ r *Renderer }

func (s editSurface) due(ready, _ time.Time) time.Time { return ready }

// changed: a preview that differs from the one shown (if not, the text
// counts as shown).
func (s editSurface) changed(text string, _ int) bool {
	r := s.r
	if !r.msg.open || r.caps.Editor == nil {
		return false
	}
	if r.interim(text[r.msg.start:]) == r.msg.shown {
		r.shownUpTo(len(text))
		return false
	}
	return true
}

func (s editSurface) update(ctx context.Context, ready time.Time, upTo int) time.Duration {
	if !s.r.msg.open || s.r.caps.Editor == nil {
		return 0
	}
	return s.r.editInterim(ctx, ready, upTo)
}

func (s editSurface) finish(ctx context.Context, text, suffix string) {
	r := s.r
	r.finishEdit(ctx, r.msg.prefix+text[r.msg.start:]+suffix)
}

func (editSurface) native() bool { return false }

// nativeSurface appends the text to a native stream message
// (platforms.Streamer), rolling over to a new one before the platform's
// length limit.
type nativeSurface struct{ r *Renderer }

func (s nativeSurface) due(ready, crossedAt time.Time) time.Time {
	if !crossedAt.IsZero() && crossedAt.Before(ready) {
		return crossedAt
	}
	return ready
}

// changed: pending text that can be appended (not only a word being
// written).
func (s nativeSurface) changed(text string, shownLen int) bool {
	return holdback(text[shownLen:]) > 0
}

func (s nativeSurface) update(ctx context.Context, ready time.Time, upTo int) time.Duration {
	return s.r.appendInterim(ctx, ready, upTo)
}

func (s nativeSurface) finish(ctx context.Context, text, suffix string) {
	s.r.finishNative(ctx, text, suffix)
}

func (nativeSurface) native() bool { return true }
