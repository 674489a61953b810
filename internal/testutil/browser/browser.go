// Package browser opens pages in a real headless Chromium (Debian's
// chromium package) over the DevTools protocol, for tests of what slipway
// writes for browsers: the HTML report, the summary's Mermaid graph. It
// records what a reviewer's browser would show and complain about: console
// messages, uncaught exceptions, Content-Security-Policy violations and
// every network request. Test code only.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Path is where Debian's chromium package installs the browser.
const Path = "/usr/bin/chromium"

// Chromium returns the browser's path. Without it the test is skipped on a
// developer's machine and fails in CI (CI set): CI must not pass by
// skipping the browser tests (.ci/run installs the package).
func Chromium(t testing.TB, getenv func(string) string) string {
	t.Helper()
	if _, err := os.Stat(Path); err == nil {
		return Path
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if getenv("CI") != "" {
		t.Fatalf("CI is set and %s is missing: install Debian's chromium package (apt-get install -y chromium)", Path)
	}
	t.Skipf("%s is missing (apt-get install -y chromium); CI fails here instead of skipping", Path)
	return ""
}

// Options tune Open.
type Options struct {
	// NoJavaScript disables scripts, to see the page as a reader with
	// JavaScript off does.
	NoJavaScript bool
	// Width and Height of the window; 0 means 1280x900.
	Width, Height int
	// Timeout bounds loading; 0 means 60 s.
	Timeout time.Duration
}

// Page is a page loaded in the browser and what happened while it loaded.
type Page struct {
	ctx context.Context
	mu  sync.Mutex
	// problems are console errors and warnings, exceptions, CSP violations
	// and browser log entries of level warning or error.
	problems []string
	console  []string
	requests []string
}

// violationProbe runs in every document before its own scripts (DevTools
// scripts are not subject to the page's policy) and reports each CSP
// violation, which Chromium otherwise only logs.
const violationProbe = `document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});`

// Open starts Chromium and loads url, waiting for the load event. The
// browser stops when the test ends.
func Open(t testing.TB, path, url string, o Options) *Page {
	t.Helper()
	if o.Width == 0 {
		o.Width, o.Height = 1280, 900
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	p := &Page{}
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	p.ctx = ctx
	// The first action starts the browser and binds it to its context:
	// that must be the test's, not the load's timeout.
	// A browser that never comes up (a loaded machine, a broken install)
	// fails the test instead of hanging it.
	started := make(chan struct{})
	go func() {
		select {
		case <-started:
		case <-time.After(o.Timeout):
			cancelTab()
		}
	}()
	err := chromedp.Do(ctx)
	close(started)
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	lctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	err = chromedp.Do(lctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, fmt.Errorf("network.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{}); err != nil {
			return chromedp.Void{}, fmt.Errorf("log.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: violationProbe}); err != nil {
			return chromedp.Void{}, fmt.Errorf("adding the CSP probe: %w", err)
		}
		if o.NoJavaScript {
			if _, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				return chromedp.Void{}, fmt.Errorf("disabling scripts: %w", err)
			}
		}
		return chromedp.Void{}, nil
	}, chromedp.Navigate(url))
	if err != nil {
		t.Fatalf("loading %s in Chromium: %v", url, err)
	}
	return p
}

// record keeps the events of the tab; it runs in the tab's read loop.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, remoteText(a))
		}
		line := string(ev.Type) + ": " + strings.Join(parts, " ")
		p.console = append(p.console, line)
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.problems = append(p.problems, "console."+line)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		p.problems = append(p.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e.Level == cdplog.EntryLevelError || e.Level == cdplog.EntryLevelWarning {
			p.problems = append(p.problems, fmt.Sprintf("browser log (%s, %s): %s %s", e.Source, e.Level, e.Text, e.URL))
		}
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	}
}

func remoteText(o *runtime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	return o.Description
}

// Problems are the console errors and warnings, uncaught exceptions, CSP
// violations and browser log warnings and errors seen so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Console is every console message seen so far, as "type: text".
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Requests are the URLs of every request the page made, its own included.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Eval evaluates a JavaScript expression in the page (DevTools evaluation
// is not subject to the page's policy) and decodes its JSON value into out.
func (p *Page) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %q: %v", firstLine(expr), err)
	}
	if out == nil {
		return
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decoding the value of %q (%s): %v", firstLine(expr), raw, err)
	}
}

// Click clicks the element a CSS selector finds, as a user would.
func (p *Page) Click(t testing.TB, selector string) {
	t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		t.Fatalf("clicking %s: %v", selector, err)
	}
}

// Screenshot writes a PNG of the whole page to dir/name and returns its
// path.
func (p *Page) Screenshot(t testing.TB, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// KeepScreenshot writes a screenshot to the test's temporary directory,
// and also to SLIPWAY_SCREENSHOT_DIR when that is set, for a person to
// look at (and for the docs).
func (p *Page) KeepScreenshot(t testing.TB, name string) {
	t.Helper()
	shot := p.Screenshot(t, t.TempDir(), name)
	t.Logf("screenshot: %s", shot)
	dir := os.Getenv("SLIPWAY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	data, err := os.ReadFile(shot)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	if err != nil {
		t.Fatalf("keeping the screenshot: %v", err)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "…"
	}
	return s
}
