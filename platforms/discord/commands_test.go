package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

func TestSyncCommandsGlobalAndGuild(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	cfg := testConfig(srv)
	ctx := waitCtx(t)

	mustNoErr(t, SyncCommands(ctx, cfg, testLogger(t)), "global sync")
	cfg.CommandGuild = guildID
	mustNoErr(t, SyncCommands(ctx, cfg, testLogger(t)), "guild sync")
	if n := srv.CountCalls("PUT", "/applications/{app}/commands"); n != 1 {
		t.Errorf("global PUTs = %d", n)
	}
	if n := srv.CountCalls("PUT", "/applications/{app}/guilds/{g}/commands"); n != 1 {
		t.Errorf("guild PUTs = %d", n)
	}
	for _, scope := range []string{"", guildID} {
		cmds := srv.Commands(scope)
		if len(cmds) != 11 {
			t.Fatalf("scope %q: %d commands, want 11", scope, len(cmds))
		}
		byName := map[string]*discordtest.Command{}
		for _, c := range cmds {
			byName[c.Name] = c
			if c.NameLocalizations == nil || (*c.NameLocalizations)[discordgo.ChineseCN] == "" {
				t.Errorf("%s: no zh-CN name", c.Name)
			}
			if c.Contexts == nil || c.IntegrationTypes == nil {
				t.Errorf("%s: contexts %v integration types %v", c.Name, c.Contexts, c.IntegrationTypes)
			} else if diff := cmp.Diff([]int{0, 1}, *c.Contexts); diff != "" {
				t.Errorf("%s: contexts (-want +got):\n%s", c.Name, diff)
			} else if diff := cmp.Diff([]int{0}, *c.IntegrationTypes); diff != "" {
				t.Errorf("%s: integration types (-want +got):\n%s", c.Name, diff)
			}
			if c.Type == discordgo.ChatApplicationCommand && (c.DescriptionLocalizations == nil || (*c.DescriptionLocalizations)[discordgo.ChineseCN] == "") {
				t.Errorf("%s: no zh-CN description", c.Name)
			}
		}
		for _, name := range []string{"link", "unlink", "ask", "new", "whoami", "memory", "note", "sessions", "help", "Save to SecondMe", "Ask my avatar"} {
			if byName[name] == nil {
				t.Errorf("scope %q: missing %q", scope, name)
			}
		}
		if ask := byName["ask"]; ask != nil && (len(ask.Options) != 1 || ask.Options[0].Name != "message" || !ask.Options[0].Required ||
			ask.Options[0].NameLocalizations[discordgo.ChineseCN] == "") {
			t.Errorf("ask options = %+v", ask.Options)
		}
		if m := byName["Save to SecondMe"]; m != nil && m.Type != discordgo.MessageApplicationCommand {
			t.Errorf("Save to SecondMe type = %d", m.Type)
		}
	}
}

// TestSyncCommandsWireBody reads the bulk overwrite as Discord receives
// it: each command one JSON object, discordgo's fields at its top level
// beside "contexts": [0, 1] (guild channels, the DM with the bot) and
// "integration_types": [0] (guild install), which discordgo v0.28.1 does
// not carry and the adapter sends itself.
func TestSyncCommandsWireBody(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	mustNoErr(t, SyncCommands(waitCtx(t), testConfig(srv), testLogger(t)), "sync")
	calls := srv.CallsTo("PUT", "/applications/{app}/commands")
	if len(calls) != 1 {
		t.Fatalf("PUTs = %d, want 1", len(calls))
	}
	var body []map[string]json.RawMessage
	if err := json.Unmarshal(calls[0].RawBody, &body); err != nil {
		t.Fatalf("body %s: %v", calls[0].RawBody, err)
	}
	if len(body) != 11 {
		t.Fatalf("%d commands in the body, want 11", len(body))
	}
	for _, c := range body {
		var name string
		_ = json.Unmarshal(c["name"], &name)
		got := map[string]string{"contexts": string(c["contexts"]), "integration_types": string(c["integration_types"])}
		want := map[string]string{"contexts": "[0,1]", "integration_types": "[0]"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
		for _, k := range []string{"name", "type", "name_localizations"} {
			if c[k] == nil {
				t.Errorf("%s: no top-level %q in %v", name, k, c)
			}
		}
		if c["ApplicationCommand"] != nil || c["dm_permission"] != nil {
			t.Errorf("%s: unexpected field in %v", name, c)
		}
	}
}

// TestCommandContextsJSON: a command marshals its contexts and
// integration types as arrays of numbers (not base64 bytes), and leaves
// them out when nil.
func TestCommandContextsJSON(t *testing.T) {
	t.Parallel()
	c := Command{
		ApplicationCommand: discordgo.ApplicationCommand{Name: "ask", Type: discordgo.ChatApplicationCommand},
		Contexts:           []InteractionContextType{InteractionContextGuild, InteractionContextBotDM, InteractionContextPrivateChannel},
		IntegrationTypes:   []ApplicationIntegrationType{ApplicationIntegrationGuildInstall, ApplicationIntegrationUserInstall},
	}
	b, err := json.Marshal(c)
	mustNoErr(t, err, "marshal")
	if want := `{"type":1,"name":"ask","options":null,"contexts":[0,1,2],"integration_types":[0,1]}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	b, err = json.Marshal(Command{ApplicationCommand: discordgo.ApplicationCommand{Name: "x"}})
	mustNoErr(t, err, "marshal")
	if strings.Contains(string(b), "contexts") || strings.Contains(string(b), "integration_types") {
		t.Errorf("nil lists sent: %s", b)
	}
	var back Command
	mustNoErr(t, json.Unmarshal([]byte(`{"id":"9","name":"ask","type":1,"contexts":[1],"integration_types":[1]}`), &back), "unmarshal")
	if back.ID != "9" || back.Name != "ask" || len(back.Contexts) != 1 || back.Contexts[0] != InteractionContextBotDM ||
		len(back.IntegrationTypes) != 1 || back.IntegrationTypes[0] != ApplicationIntegrationUserInstall {
		t.Errorf("decoded %+v", back)
	}
}

func TestSyncCommandsAtStartupAndRetryOn429(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	srv.FailNext("PUT", "/applications/{app}/guilds/{g}/commands", http.StatusTooManyRequests, 1)
	startAdapter(t, srv, func(c *Config) { c.SyncCommands, c.CommandGuild = true, guildID })
	if got := len(srv.Commands(guildID)); got != 11 {
		t.Errorf("guild commands = %d, want 11 after a retried 429", got)
	}
	if n := srv.CountCalls("PUT", "/applications/{app}/guilds/{g}/commands"); n != 2 {
		t.Errorf("PUTs = %d, want 2", n)
	}
}

func TestSyncCommandsErrors(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	cfg := testConfig(srv)
	cfg.ApplicationID = ""
	if err := SyncCommands(t.Context(), cfg, nil); err == nil || !strings.Contains(err.Error(), "application_id") {
		t.Errorf("without app id = %v", err)
	}
	cfg = testConfig(srv)
	srv.FailNext("PUT", "/applications/{app}/commands", http.StatusInternalServerError, 1)
	if err := SyncCommands(t.Context(), cfg, nil); err == nil {
		t.Error("sync succeeded through a 500")
	}
	srv.FailNext("PUT", "/applications/{app}/commands", http.StatusTooManyRequests, 5)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := SyncCommands(ctx, cfg, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sync = %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	cfg := testConfig(srv)
	got, err := Check(t.Context(), cfg)
	mustNoErr(t, err, "check")
	if got != "bot "+discordtest.DefaultBotName {
		t.Errorf("Check = %q", got)
	}
	cfg.Token = "Bot some.wrong.token"
	cfg.ApplicationID = ""
	_, err = Check(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token = %v, want 401", err)
	}
	if _, err := Check(t.Context(), Config{}); err == nil {
		t.Error("check without a token succeeded")
	}
}

// TestAPIURLRouting shows that every call goes through Config.APIURL: the
// tests' transport refuses any host but 127.0.0.1, so without APIURL the
// adapter would have tried discord.com (and failed), and a base with a path
// prefix is honoured.
func TestAPIURLRouting(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	cfg := testConfig(srv)
	cfg.APIURL = ""
	_, err := Check(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "request to discord.com refused") {
		t.Fatalf("default api url = %v, want the test transport to refuse discord.com", err)
	}

	var (
		mu    sync.Mutex
		paths []string
	)
	proxy := http.NewServeMux()
	proxy.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/proxy")
		r.RequestURI = ""
		r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(srv.URL(), "http://")
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(readAll(resp))
	})
	ps := newLoopbackServer(t, proxy)
	cfg = testConfig(srv)
	cfg.APIURL = ps + "/proxy/api/v9/"
	_, rec := startAdapter(t, srv, func(c *Config) { c.APIURL = cfg.APIURL })
	in, err := srv.SlashCommand(guildID, channelID, alice, "help", nil)
	mustNoErr(t, err, "slash")
	rec.event(t, "int:"+in.ID)
	mu.Lock()
	got := strings.Join(paths, "\n")
	mu.Unlock()
	for _, want := range []string{"GET /proxy/api/v9/gateway", "POST /proxy/api/v9/interactions/" + in.ID + "/"} {
		if !strings.Contains(got, want) {
			t.Errorf("proxy saw:\n%s\nwant %q", got, want)
		}
	}
}
