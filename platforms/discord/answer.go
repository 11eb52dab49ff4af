package discord

import (
	"encoding/json"
	"errors"
	"fmt"
)

// createdMessage is the part of Discord's answer to a message creation
// (a channel message, a webhook execution with wait=true) that the adapter
// reads. Decoding the whole message object instead (discordgo.Message:
// author, member, mentions, embeds, components…) took about a tenth of the
// bridge's CPU under load, for one field.
type createdMessage struct {
	ID string `json:"id"`
}

// createdID returns the id of the message Discord answered with; what
// names the call (e.g. "send discord message") prefixes its errors.
func createdID(what string, answer []byte) (string, error) {
	var m createdMessage
	if err := json.Unmarshal(answer, &m); err != nil {
		return "", fmt.Errorf("%s: decode the answer: %w", what, err)
	}
	if m.ID == "" {
		return "", errors.New(what + ": no message returned")
	}
	return m.ID, nil
}

// checkAnswer reports an answer to a message edit that is not a JSON
// object (an empty answer is accepted: nothing in it is used).
func checkAnswer(what string, answer []byte) error {
	if len(answer) == 0 {
		return nil
	}
	var m createdMessage
	if err := json.Unmarshal(answer, &m); err != nil {
		return fmt.Errorf("%s: decode the answer: %w", what, err)
	}
	return nil
}
