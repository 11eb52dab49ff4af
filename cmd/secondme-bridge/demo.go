package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/internal/demo"
)

// demoStartTimeout bounds the demo's start: the bridge connecting to the
// fake Discord and the demo user's link.
const demoStartTimeout = 60 * time.Second

// demoRun is what a running demo exposes to tests (cli.onDemo).
type demoRun struct {
	env       *demo.Env
	app       *app
	pageURL   string // "" with --script
	bridgeURL string
}

const demoSummary = `Run the real bridge against a fake Discord and a fake SecondMe, on
127.0.0.1: no config, no network, no credentials. A demo user is linked
automatically; open the printed address to chat in a Discord-like channel
and watch the avatar's reply stream in through the bot's creates and edits.
With --script, play a short conversation in the terminal and exit.`

// demoFlags are the demo command's flags.
type demoFlags struct {
	script, verbose bool
	listen          string
}

// demoFlagSet returns the demo command's flag set, writing usage to out.
func demoFlagSet(f *demoFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.BoolVar(&f.script, "script", false, "play a scripted conversation in the terminal, then exit (0 when every reply arrived intact)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "`ADDR` of the demo page (port 0: any free port)")
	fs.BoolVar(&f.verbose, "verbose", false, "log the bridge at debug level to stderr (default: warnings only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: secondme-bridge demo [--script] [--listen ADDR] [--verbose]\n\n%s\n\nFlags:\n", demoSummary)
		fs.PrintDefaults()
	}
	return fs
}

// cmdDemo runs `secondme-bridge demo [--script] [--listen ADDR] [--verbose]`.
func (c *cli) cmdDemo(ctx context.Context, args []string) error {
	var f demoFlags
	fs := demoFlagSet(&f)
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("demo: %v", err)
	}
	if fs.NArg() > 0 {
		return usagef("demo: unexpected argument %q", fs.Arg(0))
	}

	// Bind the page first: a taken port fails at once, before anything starts.
	var pageLn net.Listener
	if !f.script {
		ln, err := net.Listen("tcp", f.listen)
		if err != nil {
			return fmt.Errorf("demo: listen for the demo page on %s: %w (choose another address with --listen)", f.listen, err)
		}
		defer func() { _ = ln.Close() }()
		pageLn = ln
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
			fmt.Fprintf(c.stderr, "secondme-bridge: demo: warning: the page listens on %s, beyond this machine: anyone who reaches it can chat as the demo user\n", ln.Addr())
		}
	}

	env, err := demo.Start()
	if err != nil {
		return err
	}
	defer env.Close()
	dir, err := os.MkdirTemp("", "secondme-bridge-demo-")
	if err != nil {
		return fmt.Errorf("demo: create temporary directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	a, err := c.startDemoApp(ctx, env, dir, f.verbose)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	runDone := make(chan struct{})
	var runErr error
	go func() {
		runErr = a.Run(runCtx)
		close(runDone)
	}()
	// stopApp stops the bridge (before the fakes close) and returns its
	// error.
	stopApp := func() error {
		stop()
		<-runDone
		if err := runErr; err != nil {
			fmt.Fprintf(c.stderr, "secondme-bridge: demo: the bridge stopped with an error: %v\n", err)
			return errReported
		}
		return nil
	}

	run := demoRun{env: env, app: a, bridgeURL: "http://" + a.Addr().String()}
	if err := c.demoLink(runCtx, env, runDone); err != nil {
		_ = stopApp()
		return err
	}
	if f.script {
		fmt.Fprintf(c.stdout, "secondme-bridge demo: the real bridge, a fake Discord and a fake SecondMe on 127.0.0.1; %s is linked.\n\n", demo.User.GlobalName)
		if c.onDemo != nil {
			c.onDemo(run)
		}
		playErr := env.Play(runCtx, c.stdout)
		if err := stopApp(); err != nil {
			return err
		}
		switch {
		case playErr != nil && ctx.Err() != nil:
			return errors.New("demo: interrupted")
		case playErr != nil:
			return fmt.Errorf("demo: %w", playErr)
		}
		fmt.Fprintln(c.stdout, "\ndemo finished: every reply arrived complete.")
		return nil
	}
	err = c.serveDemoPage(runCtx, env, pageLn, &run, runDone)
	if stopErr := stopApp(); err == nil {
		err = stopErr
	}
	return err
}

// startDemoApp builds the real app (store, linking, bridge, Discord adapter)
// from the demo's config, as serve does. http.public_url must name the
// port before the listener binds it, so a free port is picked first; if
// another process takes it in between, it tries another.
func (c *cli) startDemoApp(ctx context.Context, env *demo.Env, dir string, verbose bool) (*app, error) {
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("demo: find a free port: %w", err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		path := filepath.Join(dir, "config.yaml")
		yaml := env.ConfigYAML(addr, filepath.Join(dir, "demo.db"), verbose)
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			return nil, fmt.Errorf("demo: write config: %w", err)
		}
		cfg, err := c.loadValidConfig(path)
		if err != nil {
			return nil, err
		}
		a, err := newApp(ctx, cfg, newLogger(c.stderr, cfg.Log))
		if err == nil {
			return a, nil
		}
		if attempt < 3 && errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		return nil, fmt.Errorf("demo: start the bridge: %w", err)
	}
}

// demoLink waits for the bridge's Discord connection, then links the demo
// user through the real /link flow. It gives up when the bridge stops.
func (c *cli) demoLink(ctx context.Context, env *demo.Env, runDone <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, demoStartTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		err := env.WaitConnected(ctx)
		if err == nil {
			err = env.LinkUser(ctx, "en-US")
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		return nil
	case <-runDone:
		cancel()
		<-errc
		return errors.New("demo: the bridge stopped while starting (see its log above)")
	}
}

// serveDemoPage serves the demo page on ln until ctx is done or the bridge
// stops.
func (c *cli) serveDemoPage(ctx context.Context, env *demo.Env, ln net.Listener, run *demoRun, runDone <-chan struct{}) error {
	logger := newLogger(c.stderr, config.Log{Level: "warn"})
	page := demo.NewPage(env, logger)
	srv := newHTTPServer(page.Handler(), logger)
	srv.WriteTimeout = 0 // the page's event stream stays open
	pageCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv.BaseContext = func(net.Listener) context.Context { return pageCtx } // ends event streams on shutdown
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	run.pageURL = "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(c.stdout, "secondme-bridge demo is running: the real bridge, a fake Discord and a fake SecondMe on 127.0.0.1.\n\n"+
		"  Open %s in a browser and talk to the demo avatar as %s.\n\n"+
		"Press Ctrl-C to stop. Nothing is kept: the store is a temporary file.\n", run.pageURL, demo.User.GlobalName)
	if c.onDemo != nil {
		c.onDemo(*run)
	}

	var result error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		result = fmt.Errorf("demo: serve the demo page: %w", err)
	case <-runDone:
		result = errors.New("demo: the bridge stopped")
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
	}
	return result
}
