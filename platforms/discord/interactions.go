package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// ackTimeout bounds the deferral: Discord wants it within 3 s.
// preAckLookupTimeout bounds a channel lookup done before it.
const (
	ackTimeout          = 3 * time.Second
	preAckLookupTimeout = time.Second
)

func (a *Adapter) onInteractionCreate(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	i := ic.Interaction
	a.spawn(func() {
		if !a.handleInteraction(a.runCtx, i) {
			a.skip(i.ID)
		}
	})
}

// handleInteraction defers the interaction, then hands the command to the
// bridge (a button click goes to handleComponent). Interactions the bridge has no command for are left alone. It
// reports whether the bridge got the event.
func (a *Adapter) handleInteraction(ctx context.Context, i *discordgo.Interaction) bool {
	if i.Type == discordgo.InteractionMessageComponent {
		return a.handleComponent(ctx, i)
	}
	received := a.now()
	if i.Type != discordgo.InteractionApplicationCommand || i.ID == "" || i.Token == "" {
		return false
	}
	data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok {
		return false
	}
	cmd, ok := a.cmds.commandFor(data)
	if !ok {
		a.log.DebugContext(ctx, "ignoring unknown discord command", "command", data.Name)
		return false
	}
	ev, ok := interactionEvent(i, platforms.EventCommand)
	if !ok {
		return false
	}
	ev.Command = &platforms.Command{Name: cmd.Name, Args: cmd.Args}
	if data.CommandType == discordgo.MessageApplicationCommand {
		ev.ReplyToID = platforms.MessageID(data.TargetID)
	}
	if !ev.DM {
		if !a.guildAllowed(i.GuildID) {
			a.refuseHere(ctx, i)
			return false
		}
		if ev.User.Locale == "" && i.GuildLocale != nil {
			ev.User.Locale = string(*i.GuildLocale)
		}
		if ev.User.Locale == "" {
			ev.User.Locale = a.guildLocale(i.GuildID)
		}
		ev.WorkspaceName = a.guildName(i.GuildID)
		if a.allowedChannels() != nil {
			// The allow-list needs the thread's parent before deciding to
			// acknowledge: keep the lookup well inside the 3 s deadline.
			lctx, cancel := context.WithTimeout(ctx, preAckLookupTimeout)
			p, allowed := a.placeOf(lctx, i.ChannelID)
			cancel()
			if !allowed {
				a.refuseHere(ctx, i)
				return false
			}
			ev.Channel, ev.Thread = platforms.ChannelID(p.channel), platforms.ThreadID(p.thread)
		}
	}

	private := !a.cmds.public[cmd.Name]
	if err := a.deferInteraction(ctx, i, private); err != nil {
		a.log.WarnContext(ctx, "defer discord interaction failed", "command", cmd.Name, "error", err)
		return false
	}
	if !ev.DM && a.allowedChannels() == nil {
		p, _ := a.placeOf(ctx, i.ChannelID)
		ev.Channel, ev.Thread = platforms.ChannelID(p.channel), platforms.ThreadID(p.thread)
	}
	appID := i.AppID
	if appID == "" {
		appID = a.cfg.ApplicationID
	}
	h := handle{appID: appID, channelID: i.ChannelID, token: i.Token, received: received, ephemeral: private}
	a.ints.add(i.Token, received)
	ev.Interaction = h.encode()
	a.handler.HandleEvent(ctx, ev)
	return true
}

// refuseHere answers a command used outside the allow-lists with
// Config.NotHereText, privately (type 4, ephemeral): the user learns the
// bot can't be used there instead of seeing no answer. Without
// NotHereText it does nothing.
func (a *Adapter) refuseHere(ctx context.Context, i *discordgo.Interaction) {
	if a.cfg.NotHereText == nil {
		return
	}
	locale := string(i.Locale)
	if locale == "" && i.GuildLocale != nil {
		locale = string(*i.GuildLocale)
	}
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	resp := &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: a.cfg.NotHereText(locale), Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions(),
		},
	}
	if err := apiError("refuse interaction", a.respondInteraction(ctx, i, resp)); err != nil {
		a.log.WarnContext(ctx, "answer discord command outside the allow-list failed", "error", err)
		return
	}
	a.log.DebugContext(ctx, "discord command outside the allow-list answered privately", "guild", i.GuildID, "channel", i.ChannelID)
}

// deferInteraction acknowledges i with a deferred response (type 5),
// ephemeral for private commands. In discordgo v0.28.1 visibility can only
// be chosen here.
func (a *Adapter) deferInteraction(ctx context.Context, i *discordgo.Interaction, ephemeral bool) error {
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if ephemeral {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	return apiError("defer interaction", a.respondInteraction(ctx, i, resp))
}

// commandFor maps an application command to the bridge's command.
func (cs *commandSet) commandFor(d discordgo.ApplicationCommandInteractionData) (platforms.Command, bool) {
	if d.CommandType == discordgo.MessageApplicationCommand {
		name, ok := cs.message[d.Name]
		if !ok {
			return platforms.Command{}, false
		}
		var text string
		if d.Resolved != nil {
			if m := d.Resolved.Messages[d.TargetID]; m != nil {
				text = m.Content
			}
		}
		return platforms.Command{Name: name, Args: text}, true
	}
	if d.CommandType != 0 && d.CommandType != discordgo.ChatApplicationCommand {
		return platforms.Command{}, false
	}
	arg, ok := cs.slash[d.Name]
	if !ok {
		return platforms.Command{}, false
	}
	return platforms.Command{Name: d.Name, Args: stringOption(d.Options, arg)}, true
}

// stringOption returns the string value of the option called name.
func stringOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	if name == "" {
		return ""
	}
	for _, o := range opts {
		if o != nil && o.Name == name {
			s, _ := o.Value.(string)
			return s
		}
	}
	return ""
}

// interactionEvent is the event of a kind that interaction i carries, for
// its person (the member's user in a guild): false when i has none, or a
// bot's.
func interactionEvent(i *discordgo.Interaction, kind platforms.EventKind) (platforms.Event, bool) {
	u := i.User
	var member *discordgo.Member
	if i.Member != nil && i.Member.User != nil {
		u, member = i.Member.User, i.Member
	}
	if u == nil || u.ID == "" || u.Bot {
		return platforms.Event{}, false
	}
	return platforms.Event{
		Kind:         kind,
		Platform:     platformName,
		DedupeIDs:    []string{"int:" + i.ID},
		User:         platforms.User{ID: platforms.UserID(u.ID), DisplayName: displayName(u, member), Locale: string(i.Locale)},
		Workspace:    platforms.WorkspaceID(i.GuildID),
		Channel:      platforms.ChannelID(i.ChannelID),
		DM:           i.GuildID == "",
		Addressed:    true,
		HumanTrigger: true,
	}, true
}
