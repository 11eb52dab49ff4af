package slack

import (
	"cmp"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Kinds of posted messages, the first field of MessageRef.Extra.
const (
	refMessage   = "m" // chat.postMessage: ID is the ts; editable with chat.update
	refStream    = "s" // chat.startStream: ID is the ts
	refEphemeral = "e" // chat.postEphemeral: cannot be edited or deleted
	refResponse  = "r" // posted through a response_url: third field is the sealed handle
)

// refExtra is the decoded MessageRef.Extra: "kind|team" or
// "r|team|<sealed handle>".
type refExtra struct {
	kind   string
	team   string
	handle string
}

func (r refExtra) String() string {
	s := r.kind + "|" + r.team
	if r.handle != "" {
		s += "|" + r.handle
	}
	return s
}

func parseRef(extra string) refExtra {
	parts := strings.SplitN(extra, "|", 3)
	r := refExtra{kind: parts[0]}
	if len(parts) > 1 {
		r.team = parts[1]
	}
	if len(parts) > 2 {
		r.handle = parts[2]
	}
	return r
}

// Budgets (platforms.md §3): chat.update is Tier 3 (50+/min per workspace),
// chat.appendStream Tier 4 (100+/min). A response_url takes five posts in 30
// minutes: the first answer, three interim updates (the Burst) and the final
// one, which the bridge does not budget.
var (
	updateRate   = platforms.Budget{Rate: 50.0 / 60, Burst: 5}
	appendRate   = platforms.Budget{Rate: 100.0 / 60, Burst: 10}
	responseRate = platforms.Budget{Rate: 4.0 / 1800, Burst: 3}
	postRate     = platforms.Budget{Rate: 1, Burst: 3}
)

// budgetTeam is the workspace part of a budget key: "unknown" when the
// target or reference does not name one.
func budgetTeam(team string) string { return cmp.Or(team, "unknown") }

// SendBudgets returns the budget a new message to `to` draws from,
// "slack:<team>:post:<channel>": chat.postMessage allows about one message a
// second per channel (short bursts tolerated). No I/O.
func (a *Adapter) SendBudgets(to platforms.Target) []platforms.Budget {
	b := postRate
	b.Key = "slack:" + budgetTeam(string(to.Workspace)) + ":post:" + string(to.Channel)
	return []platforms.Budget{b}
}

// UpdateBudgets returns the shared budget one update of ref draws from:
// the workspace's Tier 3 budget for chat.update ("slack:<team>:chat.update")
// for messages, its Tier 4 budget for appendStream
// ("slack:<team>:appendStream") for native streams, and a response_url's
// five uses for an interaction answer. Ephemeral messages cannot be updated
// and have none. No I/O.
func (a *Adapter) UpdateBudgets(ref platforms.MessageRef) []platforms.Budget {
	r := parseRef(ref.Extra)
	team := budgetTeam(r.team)
	with := func(b platforms.Budget, key string) []platforms.Budget {
		b.Key = key
		return []platforms.Budget{b}
	}
	switch r.kind {
	case refMessage:
		return with(updateRate, "slack:"+team+":chat.update")
	case refStream:
		return with(appendRate, "slack:"+team+":appendStream")
	case refResponse:
		return with(responseRate, "slack:"+team+":response_url:"+budgetID(r.handle))
	}
	return nil
}
