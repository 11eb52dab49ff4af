package discord

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// An interaction handle is the opaque string in Event.Interaction and
// Target.Interaction:
//
//	i1:<application id>:<channel id>:<unix seconds received>:<e>:<token>
//
// where e is 1 when the interaction was deferred ephemerally. The token is
// last because it is the only part that could contain a colon. Everything
// needed to answer is in the string, so it works in any process for as long
// as Discord accepts the token (15 minutes).
const handleVersion = "i1"

// interactionMoveAfter is when an interaction reply moves to a channel
// message: a minute before Discord's 15-minute token expiry.
const interactionMoveAfter = 14 * time.Minute

// interactionTTL is how long Discord accepts an interaction token.
const interactionTTL = 15 * time.Minute

var errBadHandle = errors.New("invalid interaction handle")

type handle struct {
	appID, channelID, token string
	received                time.Time
	ephemeral               bool
}

// interaction is the discordgo interaction to answer through h.
func (h handle) interaction() *discordgo.Interaction {
	return &discordgo.Interaction{AppID: h.appID, Token: h.token}
}

func (h handle) encode() string {
	e := "0"
	if h.ephemeral {
		e = "1"
	}
	return strings.Join([]string{handleVersion, h.appID, h.channelID, strconv.FormatInt(h.received.Unix(), 10), e, h.token}, ":")
}

// decodeHandle parses a handle. Its error never contains the handle (it
// holds a token).
func decodeHandle(s string) (handle, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != handleVersion {
		return handle{}, errBadHandle
	}
	secs, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || parts[1] == "" || parts[5] == "" || (parts[4] != "0" && parts[4] != "1") {
		return handle{}, errBadHandle
	}
	return handle{appID: parts[1], channelID: parts[2], received: time.Unix(secs, 0), ephemeral: parts[4] == "1", token: parts[5]}, nil
}

// Kinds of interaction message references. MessageRef.Extra is
// "<kind>|<handle>" for a message posted through an interaction webhook and
// "" for a normal channel message.
const (
	refOriginal          = "o"  // the @original response
	refFollowup          = "f"  // a public follow-up
	refEphemeralFollowup = "fe" // an ephemeral follow-up
)

func refExtra(kind string, h handle) string { return kind + "|" + h.encode() }

// parseExtra splits MessageRef.Extra.
func parseExtra(extra string) (kind string, h handle, err error) {
	kind, rest, ok := strings.Cut(extra, "|")
	if !ok || (kind != refOriginal && kind != refFollowup && kind != refEphemeralFollowup) {
		return "", handle{}, errBadHandle
	}
	h, err = decodeHandle(rest)
	return kind, h, err
}

// interactionStates remembers, per interaction token, whether @original has
// been answered, so that the first Send edits it and later ones become
// follow-ups. Without an entry (another process deferred the interaction)
// the adapter asks Discord.
type interactionStates struct {
	mu sync.Mutex
	m  map[string]*interactionState
	n  int
}

type interactionState struct {
	answered bool
	expires  time.Time
}

func newInteractionStates() *interactionStates {
	return &interactionStates{m: make(map[string]*interactionState)}
}

// add records a freshly deferred interaction.
func (s *interactionStates) add(token string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.n%64 == 0 {
		for k, v := range s.m {
			if now.After(v.expires) {
				delete(s.m, k)
			}
		}
	}
	s.m[tokenHash(token)] = &interactionState{expires: now.Add(interactionTTL)}
}

// claimOriginal reports whether the caller should answer @original (and
// marks it answered), and whether the state was known at all.
func (s *interactionStates) claimOriginal(token string) (claimed, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[tokenHash(token)]
	if !ok {
		return false, false
	}
	if st.answered {
		return false, true
	}
	st.answered = true
	return true, true
}

// learn records the answered state learnt from Discord, unless the state
// is already known (a concurrent caller learnt it first).
func (s *interactionStates) learn(token string, answered bool, received time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := tokenHash(token)
	if _, ok := s.m[key]; !ok {
		s.m[key] = &interactionState{answered: answered, expires: received.Add(interactionTTL)}
	}
}

// unclaim undoes a claim whose request failed, so that the next answer
// tries @original again.
func (s *interactionStates) unclaim(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.m[tokenHash(token)]; ok {
		st.answered = false
	}
}
