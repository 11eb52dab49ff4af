package commands

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

const (
	memoryPageSize = 5   // key memories shown by /memory
	sessionsShown  = 5   // sessions shown by /sessions
	interestsShown = 5   // interest tags shown by /whoami
	itemRunes      = 300 // longest memory or session line
)

// cmdWhoami shows the user's SecondMe profile: name, bio and top interest
// tags. Privately everything; where the answer would be public, only the
// public variants of the tags.
func (d *Deps) cmdWhoami(ctx context.Context, c *Call) {
	var info *secondme.UserInfo
	var shades []secondme.Shade
	link, err := d.withLink(ctx, c.User, func(token string) error {
		var err error
		if info, err = d.SecondMe.UserInfo(ctx, token); err != nil {
			return err
		}
		if shades, err = d.SecondMe.UserShades(ctx, token); err != nil && !secondme.IsTokenInvalid(err) {
			d.Log.Warn("read interest tags", "platform", c.User.Platform, "error", err)
			shades, err = nil, nil
		}
		return err
	})
	if err != nil {
		d.tellError(ctx, c, "whoami", err)
		return
	}
	private := d.Out.CanPrivate(c.P, c.To)
	var sb strings.Builder
	name := info.Name
	if name == "" {
		name = text.T(c.L, text.MsgWhoamiUnnamed)
	}
	sb.WriteString("**" + name + "**")
	bio := info.Bio
	if bio == "" {
		bio = info.SelfIntroduction
	}
	if bio != "" {
		sb.WriteString("\n" + format.Preview(bio, 600))
	}
	if tags := topInterests(shades, private); len(tags) > 0 {
		sb.WriteString("\n" + text.T(c.L, text.MsgWhoamiInterests, strings.Join(tags, ", ")))
	}
	if as := d.repliesAs(c.L, link); as != "" {
		sb.WriteString("\n" + as)
	}
	if !private {
		sb.WriteString("\n" + text.T(c.L, text.MsgWhoamiPublicOnly))
		d.Out.Reply(ctx, c.P, c.To, sb.String())
		return
	}
	d.Out.TellPrivate(ctx, c.P, c.To, sb.String())
}

// repliesAs says which identity the user's replies are posted under, and
// why the bot's when it is ("" without Deps.Persona).
func (d *Deps) repliesAs(l text.Lang, link store.Link) string {
	if d.Persona == nil {
		return ""
	}
	as, why := d.Persona(link)
	if as == nil {
		return text.T(l, why)
	}
	return text.T(l, text.MsgRepliesAvatar, as.Name)
}

// confidenceRank orders shades, most confident first.
var confidenceRank = map[string]int{"VERY_HIGH": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "VERY_LOW": 4}

// topInterests returns the names of the most confident interest tags; with
// private false only tags with public content, by their public names.
func topInterests(shades []secondme.Shade, private bool) []string {
	type tag struct {
		name string
		rank int
	}
	var tags []tag
	for _, s := range shades {
		name, conf := s.Name, s.ConfidenceLevel
		if !private {
			if !s.HasPublicContent || s.NamePublic == "" {
				continue
			}
			name, conf = s.NamePublic, s.ConfidenceLevelPublic
		}
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		rank, ok := confidenceRank[conf]
		if !ok {
			rank = len(confidenceRank)
		}
		tags = append(tags, tag{name, rank})
	}
	slices.SortStableFunc(tags, func(a, b tag) int { return a.rank - b.rank })
	out := make([]string, 0, interestsShown)
	for _, t := range tags {
		if len(out) == interestsShown {
			break
		}
		out = append(out, t.name)
	}
	return out
}

// cmdMemory searches the user's key memories and shows the first page,
// privately only.
func (d *Deps) cmdMemory(ctx context.Context, c *Call) {
	if c.Args == "" {
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgMemoryUsage))
		return
	}
	if !d.Out.CanPrivate(c.P, c.To) {
		d.Out.Reply(ctx, c.P, c.To, text.T(c.L, text.MsgPrivateOnly))
		return
	}
	var page *secondme.KeyMemoryPage
	err := d.withToken(ctx, c.User, func(token string) error {
		var err error
		page, err = d.SecondMe.SearchKeyMemory(ctx, token, secondme.MemoryQuery{Keyword: c.Args, PageNo: 1, PageSize: memoryPageSize})
		return err
	})
	if err != nil {
		d.tellError(ctx, c, "search key memory", err)
		return
	}
	keyword := format.Preview(c.Args, 100)
	if len(page.Items) == 0 {
		d.privately(ctx, c, text.T(c.L, text.MsgMemoryNone, keyword))
		return
	}
	var sb strings.Builder
	sb.WriteString(text.T(c.L, text.MsgMemoryHeader, keyword))
	for i, m := range page.Items {
		if i == memoryPageSize {
			break
		}
		line := m.FactContent
		if m.FactObject != "" {
			line = "**" + m.FactObject + "**: " + line
		}
		sb.WriteString("\n• " + format.Preview(oneLine(line), itemRunes))
	}
	total := max(page.Total, len(page.Items))
	pages := (total + memoryPageSize - 1) / memoryPageSize
	sb.WriteString("\n" + text.T(c.L, text.MsgMemoryPage, pages, total))
	d.privately(ctx, c, sb.String())
}

// cmdNote saves the argument (note text, or the text of the message to
// save) as a SecondMe note, or as a key memory when notes are unavailable
// (note/add is deprecated upstream), and says which.
func (d *Deps) cmdNote(ctx context.Context, c *Call) {
	if c.Args == "" {
		key := text.MsgNoteUsage
		if strings.EqualFold(c.Ev.Command.Name, "save") {
			key = text.MsgSaveEmpty
		}
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, key))
		return
	}
	saved := text.MsgNoteSaved
	err := d.withToken(ctx, c.User, func(token string) error {
		_, err := d.SecondMe.AddNote(ctx, token, secondme.Note{Type: secondme.NoteText, Content: c.Args})
		if err == nil || !noteUnavailable(err) {
			saved = text.MsgNoteSaved
			return err
		}
		d.Log.Info("note/add unavailable; saving a key memory instead", "platform", c.User.Platform, "error", err)
		saved = text.MsgNoteSavedMemory
		return d.SecondMe.AddKeyMemory(ctx, token, secondme.KeyMemoryInput{Content: c.Args})
	})
	var ve *secondme.ValidationError
	switch {
	case errors.As(err, &ve):
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgNoteTooLong, ve.Field+" "+ve.Problem))
	case err != nil:
		d.tellError(ctx, c, "save note", err)
	default:
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, saved))
	}
}

// noteUnavailable reports whether note/add answered that it is gone: HTTP
// 404, 410 or 501, or a server error whose code or message names notes,
// unavailability or deprecation.
func noteUnavailable(err error) bool {
	if secondme.IsNotFound(err) {
		return true
	}
	var ae *secondme.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.HTTPStatus {
	case http.StatusGone, http.StatusNotImplemented:
		return true
	}
	if ae.HTTPStatus >= 500 || ae.Code >= 500 {
		code := strings.ToLower(ae.SubCode + " " + ae.Message)
		for _, w := range []string{"note", "unavailable", "deprecat"} {
			if strings.Contains(code, w) {
				return true
			}
		}
	}
	return false
}

// cmdSessions lists the user's recent sessions of this bridge's app.
func (d *Deps) cmdSessions(ctx context.Context, c *Call) {
	if !d.Out.CanPrivate(c.P, c.To) {
		d.Out.Reply(ctx, c.P, c.To, text.T(c.L, text.MsgPrivateOnly))
		return
	}
	var sessions []secondme.Session
	err := d.withToken(ctx, c.User, func(token string) error {
		var err error
		sessions, err = d.SecondMe.ListSessions(ctx, token, d.AppID)
		return err
	})
	if err != nil {
		d.tellError(ctx, c, "list sessions", err)
		return
	}
	if len(sessions) == 0 {
		d.privately(ctx, c, text.T(c.L, text.MsgSessionsNone))
		return
	}
	var sb strings.Builder
	sb.WriteString(text.T(c.L, text.MsgSessionsHeader))
	for i, s := range sessions {
		if i == sessionsShown {
			break
		}
		when := "—"
		if !s.LastUpdateTime.IsZero() {
			when = s.LastUpdateTime.UTC().Format(time.DateOnly + " 15:04 UTC")
		}
		last := oneLine(s.LastMessage)
		if last == "" {
			last = text.T(c.L, text.MsgSessionNoMessage)
		}
		sb.WriteString("\n• " + text.T(c.L, text.MsgSessionLine, when, format.Preview(last, itemRunes), s.MessageCount))
	}
	d.privately(ctx, c, sb.String())
}

// privately sends a private command result.
func (d *Deps) privately(ctx context.Context, c *Call, text string) {
	if err := d.Out.SendPrivate(ctx, c.P, c.To, platforms.Message{Text: text}); err != nil {
		d.Log.Warn("send command result", "platform", c.User.Platform, "error", err)
	}
}

// oneLine folds text onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
