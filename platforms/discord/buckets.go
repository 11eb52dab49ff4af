package discord

import (
	"context"
	"net/http"

	"github.com/bwmarrin/discordgo"
)

// interactionShards is how many rate-limit buckets of discordgo's REST
// client the calls made through interaction tokens share.
//
// discordgo keeps a bucket for every bucket id it is given, for the life
// of the session: its map is never pruned. Named after the interaction
// (discordgo's own InteractionRespond, FollowupMessageCreate and
// InteractionResponseDelete name their buckets by the token's URL), every
// slash command, button and context-menu command left three or four
// buckets behind, about a kilobyte with the token in it, for good: a
// process's memory grew with every interaction it ever answered. These
// calls name one of interactionShards buckets instead, chosen by the
// token, so the map stays bounded whatever the traffic.
//
// discordgo runs one call at a time per bucket, so two interactions of
// one shard wait for each other's calls; with 256 shards that is rare, and
// an interaction's own calls are one at a time anyway.
const interactionShards = 256

// interactionBucket is the discordgo bucket id of the calls made through
// an interaction's token (its callback, follow-ups, webhook edits and
// deletes).
func interactionBucket(token string) string {
	return "interaction:" + tokenHash(token)[:2] // 256 shards
}

// respondInteraction sends an interaction's callback: what discordgo's
// InteractionRespond does without files, in the interaction's shard
// bucket (interactionBucket).
func (a *Adapter) respondInteraction(ctx context.Context, i *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	_, err := a.s.RequestWithBucketID(http.MethodPost, discordgo.EndpointInteractionResponse(i.ID, i.Token), *resp,
		interactionBucket(i.Token), discordgo.WithContext(ctx))
	return err
}
