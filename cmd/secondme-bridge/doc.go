// Command secondme-bridge bridges Discord and Slack to SecondMe AI avatars.
//
// This package is wiring only (STYLE.md §4.1): it parses the command line,
// loads and validates the configuration (internal/config), builds the
// logger, opens the store chosen by name from a factory map, and runs the
// HTTP server and every component in one run group.
//
// Layout:
//
//	main.go      main: signals, the collector's target, then run
//	gc.go        GOGC=50 unless the environment sets GOGC (tuneGC)
//	cli.go       run, subcommand dispatch, usage errors (exit code 2)
//	serve.go     the serve subcommand
//	check.go     the check subcommand and its report
//	creds.go     credential checks against Discord, Slack and SecondMe
//	commands.go  "commands sync" and "slack-manifest", dispatched to hooks
//	app.go       app: store, mux, metrics registry, components, Run
//	wire.go      openStore (name → factory), newHTTPServer, wireComponents:
//	             the place where the bridge, the SecondMe client and the
//	             platform adapters are added
//	http.go      /healthz, the metrics registry and the request middleware
//	admin.go     the routes; http.admin_listen (/metrics, /debug/pprof)
//	readyz.go    /readyz: the store and each platform, and what "ready" means
//	reload.go    SIGHUP: re-read the config, apply the live keys
//	probe.go     "probe": exit 0 when /readyz answers 200 (Docker HEALTHCHECK)
//	shards.go    Discord sharding across replicas (discord.shards): the
//	             claimer and identify gate on the store, shard metrics
//	installs.go  the Slack install flow (slack.install) on store.Installs
//	logger.go    the slog logger from log.level and log.format, switchable live
//	version.go   version, commit (set with -ldflags "-X main.version=…")
//
// Everything runs in-process from cli.run(ctx, args) (main adds the
// signals, SIGINT/SIGTERM cancelling ctx and SIGHUP feeding cli.reloads,
// and sets the collector's target for the process), so tests (and
// end-to-end tests) drive the real command without a subprocess.
package main
