package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{EditInterval: -time.Second, QueueSize: -1})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"store is required", "SecondMe client is required", "linker is required",
		"edit interval must not be negative", "limits must not be negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{noRun: true})
	if h.b.Ready() {
		t.Error("Ready before Run (the fake platform is not connected yet)")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.b.Run(ctx) }()
	if err := h.p.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !h.b.Ready() {
		t.Error("not Ready while the platform runs")
	}
	if err := h.b.AddPlatform(platformtest.New(platformtest.Options{Name: "late"}).As()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("AddPlatform after Run = %v, want ErrAlreadyRunning", err)
	}
	if err := h.b.Run(ctx); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run = %v, want ErrAlreadyRunning", err)
	}
	boom := errors.New("gateway gone for good")
	h.p.Stop(boom)
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Errorf("Run = %v, want the platform's failure", err)
		}
	case <-time.After(waitLong):
		t.Fatal("Run did not return after the platform failed")
	}
}

func TestAddPlatformRejectsDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{noRun: true})
	if err := h.b.AddPlatform(platformtest.New(platformtest.Options{Name: testPlatform}).As()); err == nil {
		t.Error("a second platform with the same name was accepted")
	}
	if err := h.b.AddPlatform(nil); err == nil {
		t.Error("a nil platform was accepted")
	}
}

func TestTypingRefreshedUntilFirstText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{NoStream: true, Limits: platforms.Limits{TypingInterval: 30 * time.Millisecond}}})
	h.link("u1", "Ada")
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"thought ", "about it"}, Delay: 120 * time.Millisecond})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.waitReplies(1)
	time.Sleep(100 * time.Millisecond) // a late refresh would show up here
	var typing, textSeen int
	for _, c := range h.p.Calls() {
		switch c.Kind {
		case platformtest.CallTyping:
			if textSeen > 0 {
				t.Errorf("typing call #%d after the first text", c.Seq)
			}
			typing++
		case platformtest.CallSend, platformtest.CallEdit:
			textSeen++
		}
	}
	if typing < 3 {
		t.Errorf("%d typing calls, want the indicator refreshed while the avatar thinks", typing)
	}
}

func TestNoTypingNoPlaceholder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{NoStream: true, NoTyping: true}})
	h.link("u1", "Ada")
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"first ", "words"}, Delay: 30 * time.Millisecond})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.waitReplies(1)
	if first := h.p.CallsOf(platformtest.CallSend)[0]; !strings.HasPrefix("first words", first.Text) || first.Text == "" {
		t.Errorf("first message %q is not the reply's first text", first.Text)
	}
}

func TestSendOnlyPlatformGetsFinalText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{NoStream: true, NoEdit: true, NoTyping: true}})
	h.link("u1", "Ada")
	deltas := words("A platform that can only post gets the whole reply at the end.")
	h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 5 * time.Millisecond})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.waitReplies(1)
	if msgs := h.p.Messages(); len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) {
		t.Errorf("final state wrong\n%s", h.p.Dump())
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.Registerer = reg }})
	h.link("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.waitReplies(1)
	h.deliver(h.msg("u2", "c1", "", "not linked"))
	h.waitEphemeral("run /link")
	h.settle()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetHistogram() != nil:
				got[f.GetName()] = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				name := f.GetName()
				for _, l := range m.GetLabel() {
					name += "{" + l.GetValue() + "}"
				}
				got[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[f.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"secondme_bridge_first_text_seconds":       1,
		"secondme_bridge_reply_duration_seconds":   1,
		"secondme_bridge_reply_updates":            1,
		"secondme_bridge_unlinked_requests_total":  1,
		"secondme_bridge_errors_total{not_linked}": 0,
		"secondme_bridge_active_streams":           0,
		"secondme_bridge_queue_depth":              0,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
	if _, err := New(Config{Store: h.st, SecondMe: h.sm.Client(), Linker: h.linker, Registerer: reg}); err == nil {
		t.Error("a second Bridge registered on the same registry")
	}
}
