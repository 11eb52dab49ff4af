package discordtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// chatNameRe is Discord's rule for slash command and option names.
var chatNameRe = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// knownLocales are the locales Discord accepts in localizations.
var knownLocales = map[string]bool{
	"id": true, "da": true, "de": true, "en-GB": true, "en-US": true, "es-ES": true, "es-419": true, "fr": true,
	"hr": true, "it": true, "lt": true, "hu": true, "nl": true, "no": true, "pl": true, "pt-BR": true, "ro": true,
	"fi": true, "sv-SE": true, "vi": true, "tr": true, "cs": true, "el": true, "bg": true, "ru": true, "uk": true,
	"hi": true, "th": true, "zh-CN": true, "ja": true, "zh-TW": true, "ko": true,
}

// Command is an application command as the fake stores and returns it:
// discordgo's ApplicationCommand with the fields discordgo v0.28.1 does
// not carry. Contexts and IntegrationTypes are nil when the registration
// had none.
type Command struct {
	discordgo.ApplicationCommand
	// Contexts is "contexts": where the command can be used (0 guild
	// channels, 1 the DM with the bot, 2 other private channels).
	Contexts *[]int `json:"contexts,omitempty"`
	// IntegrationTypes is "integration_types": the installations it is
	// available in (0 guild install, 1 user install).
	IntegrationTypes *[]int `json:"integration_types,omitempty"`
}

// Discord's interaction context and application integration types.
var (
	knownContexts         = map[int]bool{0: true, 1: true, 2: true}
	knownIntegrationTypes = map[int]bool{0: true, 1: true}
)

// Commands returns the commands registered by the last bulk overwrite, in
// one guild or globally (guildID "").
func (s *Server) Commands(guildID string) []*Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Command(nil), s.commands[guildID]...)
}

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request, app, guild string) {
	if app != s.appID {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	var cmds []*Command
	if err := decodeBody(r, &cmds); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body")
		return
	}
	if err := validateCommands(cmds); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, err.Error())
		return
	}
	s.mu.Lock()
	for _, c := range cmds {
		c.ID, c.ApplicationID, c.GuildID, c.Version = s.newIDLocked(), s.appID, guild, "1"
		if c.Type == 0 {
			c.Type = discordgo.ChatApplicationCommand
		}
	}
	s.commands[guild] = cmds
	s.notifyLocked()
	out := rawJSON(cmds)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (s *Server) getCommands(w http.ResponseWriter, app, guild string) {
	if app != s.appID {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	writeJSON(w, http.StatusOK, s.Commands(guild))
}

// validateCommands applies Discord's naming, localization, context and
// integration type rules.
func validateCommands(cmds []*Command) error {
	seen := map[string]bool{}
	for i, c := range cmds {
		if c == nil {
			return fmt.Errorf("%d: null command", i)
		}
		key := fmt.Sprintf("%d/%s", c.Type, c.Name)
		if seen[key] {
			return fmt.Errorf("%d.name: duplicate %q", i, c.Name)
		}
		seen[key] = true
		if err := checkEnum("contexts", c.Contexts, knownContexts); err != nil {
			return fmt.Errorf("%d.%w", i, err)
		}
		if err := checkEnum("integration_types", c.IntegrationTypes, knownIntegrationTypes); err != nil {
			return fmt.Errorf("%d.%w", i, err)
		}
		chat := c.Type == 0 || c.Type == discordgo.ChatApplicationCommand
		names := map[discordgo.Locale]string{"": c.Name}
		if c.NameLocalizations != nil {
			for l, n := range *c.NameLocalizations {
				names[l] = n
			}
		}
		for l, n := range names {
			if err := checkName(n, chat); err != nil {
				return fmt.Errorf("%d.name_localizations[%s]: %w", i, l, err)
			}
			if l != "" && !knownLocales[string(l)] {
				return fmt.Errorf("%d.name_localizations: invalid locale %q", i, l)
			}
		}
		if !chat {
			if c.Description != "" || len(c.Options) > 0 {
				return fmt.Errorf("%d: context menu commands have no description or options", i)
			}
			continue
		}
		if err := checkDescriptions(c.Description, c.DescriptionLocalizations); err != nil {
			return fmt.Errorf("%d.description: %w", i, err)
		}
		if err := validateOptions(c.Options); err != nil {
			return fmt.Errorf("%d.options: %w", i, err)
		}
	}
	return nil
}

// checkEnum checks that the list of field, when sent, holds known values
// only.
func checkEnum(field string, vals *[]int, known map[int]bool) error {
	if vals == nil {
		return nil
	}
	for j, v := range *vals {
		if !known[v] {
			return fmt.Errorf("%s[%d]: invalid value %d", field, j, v)
		}
	}
	return nil
}

func validateOptions(opts []*discordgo.ApplicationCommandOption) error {
	optional := false
	for j, o := range opts {
		if o == nil {
			return fmt.Errorf("%d: null option", j)
		}
		if err := checkName(o.Name, true); err != nil {
			return fmt.Errorf("%d.name: %w", j, err)
		}
		for l, n := range o.NameLocalizations {
			if err := checkName(n, true); err != nil || !knownLocales[string(l)] {
				return fmt.Errorf("%d.name_localizations[%s]: invalid", j, l)
			}
		}
		dl := o.DescriptionLocalizations
		if err := checkDescriptions(o.Description, &dl); err != nil {
			return fmt.Errorf("%d.description: %w", j, err)
		}
		if o.Required && optional {
			return fmt.Errorf("%d: required options must come before optional ones", j)
		}
		optional = optional || !o.Required
	}
	return nil
}

func checkName(n string, chat bool) error {
	if chat {
		if !chatNameRe.MatchString(n) || strings.ToLower(n) != n {
			return fmt.Errorf("invalid chat input name %q", n)
		}
		return nil
	}
	if l := utf8.RuneCountInString(n); l < 1 || l > 32 {
		return fmt.Errorf("name %q must have 1 to 32 characters", n)
	}
	return nil
}

func checkDescriptions(d string, locs *map[discordgo.Locale]string) error {
	all := map[discordgo.Locale]string{"": d}
	if locs != nil {
		for l, v := range *locs {
			all[l] = v
		}
	}
	for l, v := range all {
		if n := utf8.RuneCountInString(v); n < 1 || n > 100 {
			return fmt.Errorf("locale %q: must have 1 to 100 characters", l)
		}
		if l != "" && !knownLocales[string(l)] {
			return fmt.Errorf("invalid locale %q", l)
		}
	}
	return nil
}
