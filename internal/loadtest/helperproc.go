package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// helperProc is a process of this binary re-executed in one of its
// helper roles (the bare bot): its stdin is given, its stdout read line by
// line by the caller, its stderr kept for error reports.
type helperProc struct {
	cmd  *exec.Cmd
	out  *bufio.Reader
	errb *logBuffer
	done chan error
}

// startHelper starts bin with env (role=1) and extra, writing in to its
// stdin.
func startHelper(ctx context.Context, bin, role string, extra []string, in []byte) (*helperProc, error) {
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(append(os.Environ(), role+"=1"), extra...)
	cmd.Stdin = strings.NewReader(string(in))
	errb := &logBuffer{}
	cmd.Stderr = errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", role, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadtest: start %s: %w", role, err)
	}
	return &helperProc{cmd: cmd, out: bufio.NewReader(out), errb: errb}, nil
}

// wait waits for the process to exit, once its stdout has been read.
func (p *helperProc) wait() error {
	if p.done == nil {
		p.done = make(chan error, 1)
		p.done <- p.cmd.Wait()
	}
	err := <-p.done
	p.done <- err
	return err
}

// kill ends the process if it still runs and reaps it.
func (p *helperProc) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.wait()
}

// stderr is the tail of what the process wrote to its stderr so far.
func (p *helperProc) stderr() string { return p.errb.tail(40) }
