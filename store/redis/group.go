package redis

import (
	"context"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store/internal/group"
)

// groupPipe sends the commands of concurrent callers together, as the
// bolt store's group commit shares one fsync: a call that arrives while a
// pipeline is in flight waits for the next one, which sends every command
// then waiting in one round trip. A call that finds none in flight goes at
// once, alone and with its own context, exactly as a direct call; so a
// lone call waits no longer than before, and a burst costs one round trip
// (and one pooled connection) per batch instead of one per call.
//
// The commands of one batch are a plain pipeline, not a transaction: each
// runs on its own, in arrival order, and gets its own reply or error. A
// caller that waits for the next batch returns its context's error if the
// context ends first; its command, if already sent, may still run, as a
// direct call's may once written. A command whose context ended before its
// batch was formed is not sent.
//
// It is for the hot path's short, non-blocking commands (the Turns scripts
// and the in-flight records); blocking or long commands must not go
// through it, as a batch holds up the calls behind it.
type groupPipe struct {
	c     goredis.UniversalClient
	calls group.Group[*groupCmd] // Send: send
}

// newGroupPipe returns the group pipeline of c's commands.
func newGroupPipe(c goredis.UniversalClient) *groupPipe {
	g := &groupPipe{c: c}
	g.calls.Send = g.send
	return g
}

// groupCmd is one caller's command. script, when set, is the script cmd
// is the EVALSHA of: a node that lacks it (NOSCRIPT) gets it by EVAL.
type groupCmd struct {
	ctx    context.Context
	cmd    goredis.Cmder
	script *goredis.Script
	keys   []string
	args   []any
	done   chan struct{}
}

// do sends c's command, alone or with the calls waiting beside it, and
// reports whether it was answered. When it was not (the context ended
// first), the command may still be written to later and must not be read:
// err is then the context's.
func (g *groupPipe) do(ctx context.Context, c *groupCmd) (answered bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.ctx, c.done = ctx, make(chan struct{})
	g.calls.Add(c)
	select {
	case <-c.done:
		return true, c.cmd.Err()
	case <-ctx.Done():
		select {
		case <-c.done: // answered as well: its reply is the one to give
			return true, c.cmd.Err()
		default:
			return false, ctx.Err()
		}
	}
}

// run sends cmd through the group and returns its error. When the error
// is the context's, cmd must not be read: it may still be answered later.
func (g *groupPipe) run(ctx context.Context, cmd goredis.Cmder) error {
	_, err := g.do(ctx, &groupCmd{cmd: cmd})
	return err
}

// script runs sc by EVALSHA through the group, falling back to EVAL when
// the node has not cached it. The reply is read as from Script.Run.
func (g *groupPipe) script(ctx context.Context, sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", sc.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := goredis.NewCmd(ctx, cmdArgs...)
	if answered, err := g.do(ctx, &groupCmd{cmd: cmd, script: sc, keys: keys, args: args}); !answered {
		cmd = goredis.NewCmd(ctx) // the sent one may still be written to
		cmd.SetErr(err)
	}
	return cmd
}

// send sends batch (group.Group's Send): one call by itself with its own
// context, several as one pipeline. Calls whose context has ended are
// dropped first.
func (g *groupPipe) send(batch []*groupCmd) {
	live := batch[:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.cmd.SetErr(err)
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		c := live[0]
		_ = g.c.Process(c.ctx, c.cmd)
	default:
		ctx, cancel := batchContext(live)
		p := g.c.Pipeline()
		for _, c := range live {
			_ = p.Process(ctx, c.cmd)
		}
		_, _ = p.Exec(ctx) // every command holds its own error
		cancel()
	}
	for _, c := range live {
		if c.script != nil && noScript(c.cmd.Err()) {
			g.eval(c)
		}
		close(c.done)
	}
}

// eval runs c's script by EVAL after its EVALSHA found no script, and
// gives c's command that reply.
func (g *groupPipe) eval(c *groupCmd) {
	cmd, ok := c.cmd.(*goredis.Cmd)
	if !ok {
		return
	}
	r := c.script.Eval(c.ctx, g.c, c.keys, c.args...)
	cmd.SetVal(r.Val())
	cmd.SetErr(r.Err())
}

// noScript reports a NOSCRIPT reply.
func noScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// batchContext is the context a batch is sent with: no caller's
// cancellation ends it (the others still wait for their replies), and its
// deadline is the latest of the callers' when every one has a deadline;
// otherwise go-redis's own timeouts bound it.
func batchContext(batch []*groupCmd) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(batch[0].ctx)
	var latest time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}
