package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Viewport is a window size pages are checked at.
type Viewport struct {
	Name          string
	Width, Height int64
}

// Viewports are the sizes every page is checked at: a laptop and a phone
// (390x844, an iPhone 12 to 15 in portrait).
var Viewports = []Viewport{{"desktop", 1280, 800}, {"phone", 390, 844}}

// loadTimeout bounds one page load with its checks.
const loadTimeout = 45 * time.Second

// Page is one page to check.
type Page struct {
	// Name names the screenshots: <Name>-<viewport>.png.
	Name string
	// Open prepares the page and returns its URL. It is called once per
	// viewport (links may be single-use).
	Open func(t *testing.T) string
	// AcceptLanguage is sent with every request (e.g. "zh-CN,zh;q=0.9").
	AcceptLanguage string
	// Act, if set, runs after the load (typing into a form, …).
	Act chromedp.Action[chromedp.Void]
	// Ready is a JavaScript expression that becomes true when the page
	// shows what it must (polled after Act).
	Ready string
	// Want are texts the visible page (document.body.innerText) must hold.
	Want []string
}

// Browser is a running headless Chromium.
type Browser struct {
	ctx context.Context // the browser's context
	dir string          // screenshots
}

// Start starts Chromium for the test and stops it when the test ends. It
// skips the test (fails it when CI=true) if Chromium is not installed.
func Start(t *testing.T) *Browser {
	t.Helper()
	path, err := find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests: %v; CI must install it (.ci/run: apt-get install chromium)", err)
		}
		t.Skipf("browser tests skipped: %v (install the Debian package chromium, or set CHROMIUM_PATH)", err)
	}
	dir, err := screenshotDir()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where the sandbox cannot start
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; it must not have a timeout (that
	// would stop the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	t.Logf("chromium %s; screenshots in %s", path, dir)
	return &Browser{ctx: ctx, dir: dir}
}

// find returns the Chromium executable.
func find() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROMIUM_PATH: %w", err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found on PATH")
}

// screenshotDir is $SECONDME_BRIDGE_SCREENSHOTS or
// <module root>/.ci/artifacts/screenshots, created if needed.
func screenshotDir() (string, error) {
	dir := os.Getenv("SECONDME_BRIDGE_SCREENSHOTS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, ".ci", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create screenshot directory: %w", err)
	}
	return dir, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Check loads p at every viewport, in a fresh tab each, and reports on t
// every console error or uncaught exception, any horizontal overflow, a
// missing text, and a Ready that never became true. It writes one
// screenshot per viewport.
func (b *Browser) Check(t *testing.T, p Page) {
	t.Helper()
	for _, vp := range Viewports {
		b.checkAt(t, p, vp)
	}
}

func (b *Browser) checkAt(t *testing.T, p Page, vp Viewport) {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(b.ctx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(tab, loadTimeout)
	defer cancel()
	url := p.Open(t)
	where := p.Name + " at " + vp.Name

	// Collect the console from before the navigation until the checks end.
	consoleCtx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(consoleCtx)
	collected := make(chan []chromedp.ConsoleMessage, 1)
	go func() {
		var all []chromedp.ConsoleMessage
		for m, err := range messages {
			if err != nil {
				break
			}
			all = append(all, m)
		}
		collected <- all
	}()

	steps := []chromedp.Action[chromedp.Void]{
		chromedp.EmulateViewport(vp.Width, vp.Height),
	}
	if p.AcceptLanguage != "" {
		steps = append(steps, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Accept-Language": p.AcceptLanguage},
			})
			return err
		}))
	}
	steps = append(steps, chromedp.Navigate(url), chromedp.WaitReady("body"))
	if p.Act != nil {
		steps = append(steps, p.Act)
	}
	if p.Ready != "" {
		steps = append(steps, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[chromedp.Void](p.Ready, chromedp.WithPollingInterval(50*time.Millisecond),
				chromedp.WithPollingTimeout(loadTimeout-5*time.Second))(ctx, t)
			return chromedp.Void{}, err
		})
	}
	err := chromedp.Do(ctx, steps...)
	var text, finalURL string
	var ov overflow
	var png []byte
	if err == nil {
		text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	}
	if err == nil {
		finalURL, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	}
	if err == nil {
		ov, err = chromedp.Run(ctx, chromedp.Evaluate[overflow](overflowJS))
	}
	if err == nil {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	stopConsole()
	for _, m := range <-collected {
		if problem := consoleProblem(m, url, finalURL); problem != "" {
			t.Errorf("%s: %s", where, problem)
		}
	}
	if err != nil {
		t.Errorf("%s: %v (url %s)", where, err, url)
		return
	}
	file := filepath.Join(b.dir, p.Name+"-"+vp.Name+".png")
	if err := os.WriteFile(file, png, 0o600); err != nil {
		t.Errorf("write screenshot: %v", err)
	}
	if ov.ScrollWidth > ov.InnerWidth {
		t.Errorf("%s: cut off horizontally: scrollWidth %d > viewport %d; widest elements: %v (see %s)",
			where, ov.ScrollWidth, ov.InnerWidth, ov.Wide, file)
	}
	for _, w := range p.Want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: the page does not show %q; it shows:\n%s", where, w, text)
		}
	}
}

// ClickAndLoad clicks the element of sel and waits for the page that the
// click navigates to (a form post and its redirects) to load, so that an
// Act may end on another page.
func ClickAndLoad(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel))(ctx, t)
		return chromedp.Void{}, err
	}
}

// consoleProblem describes a console message that is a defect: an error,
// an assertion or an uncaught exception; "" for anything else. The status
// of the page itself (the URL opened, or where it redirected to) is not
// one: an error page's 410 or 502 is its point.
func consoleProblem(m chromedp.ConsoleMessage, openedURL, finalURL string) string {
	switch {
	case m.IsException():
		return "uncaught exception: " + m.Text
	case m.Type == chromedp.ConsoleError:
		if m.Source == "network" && (m.URL == openedURL || m.URL == finalURL) {
			return ""
		}
		return "console error: " + m.String() + " " + m.URL
	}
	return ""
}

// overflow is what overflowJS returns.
type overflow struct {
	ScrollWidth, InnerWidth int64
	Wide                    []string
}

// overflowJS measures the page's width against the viewport and names the
// elements that stick out, for the failure message.
const overflowJS = `(() => {
  const vw = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > vw + 0.5 && wide.length < 5) wide.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + " right=" + Math.round(r.right));
  }
  return {ScrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), InnerWidth: vw, Wide: wide};
})()`
