package github

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"
)

// Runtime is the GitHub Actions runner as seen from a step: inputs,
// workflow commands on standard output, the output and job summary files.
// Everything goes through the injected getenv and writer, so tests never
// touch the process environment.
type Runtime struct {
	a      *githubactions.Action
	w      io.Writer
	getenv func(string) string
	// stopToken ends a ::stop-commands:: block; random per run so text
	// from the repository cannot guess it and turn commands back on.
	stopToken    string
	masked       map[string]bool
	summaryBytes int
	summaryCut   bool

	// maskMu guards masked: auth renews cluster tokens (and masks them)
	// on whichever goroutine makes the request that needs one.
	maskMu sync.Mutex
}

// NewRuntime returns a Runtime writing workflow commands to w.
func NewRuntime(getenv func(string) string, w io.Writer) *Runtime {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return &Runtime{
		a:         githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(w)),
		w:         w,
		getenv:    getenv,
		stopToken: "slipway-" + hex.EncodeToString(b),
		masked:    map[string]bool{},
	}
}

// Input returns the action input name, trimmed ("" when absent). Inputs
// arrive as INPUT_<NAME> with hyphens kept.
func (r *Runtime) Input(name string) string { return r.a.GetInput(name) }

// Getenv reads the step's environment.
func (r *Runtime) Getenv(key string) string { return r.getenv(key) }

// minMask: GitHub masks every occurrence, so masking "1" or "on" would
// garble the log; such values carry no secret anyway.
const minMask = 4

// Mask registers secret values with the runner so it replaces them in the
// log. Multi-line values are registered line by line, since the runner
// masks per line. Call it before anything could print the values.
func (r *Runtime) Mask(values ...string) {
	r.maskMu.Lock()
	defer r.maskMu.Unlock()
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= minMask && !r.masked[line] {
				r.masked[line] = true
				r.a.AddMask(line)
			}
		}
	}
}

// Group opens a collapsible log section; title must be trusted text.
func (r *Runtime) Group(title string) { r.a.Group(title) }

// EndGroup closes the section Group opened.
func (r *Runtime) EndGroup() { r.a.EndGroup() }

// Logf writes one line of trusted text to the log.
func (r *Runtime) Logf(format string, args ...any) {
	fmt.Fprintf(r.w, format+"\n", args...)
}

// Warningf writes a warning annotation without a file.
func (r *Runtime) Warningf(format string, args ...any) { r.a.Warningf(format, args...) }

// Untrusted writes text that came from the repository (file names, error
// messages) with workflow commands turned off, so a line in it such as
// "::add-path::" or "::stop-commands::" does nothing.
func (r *Runtime) Untrusted(text string) {
	if text == "" {
		return
	}
	// The token never appears in the text: it is random per run.
	fmt.Fprintf(r.w, "::stop-commands::%s\n%s\n::%s::\n", r.stopToken, strings.TrimRight(text, "\n"), r.stopToken)
}

// StopCommands turns workflow commands off until the returned function is
// called, for a stretch of log lines that may carry repository text (deploy
// progress naming objects). Nothing else may be issued meanwhile.
func (r *Runtime) StopCommands() (resume func()) {
	fmt.Fprintf(r.w, "::stop-commands::%s\n", r.stopToken)
	return func() { fmt.Fprintf(r.w, "::%s::\n", r.stopToken) }
}

// Annotate writes a workflow-command annotation (::error file=…,line=…::).
// The runner escapes nothing itself; go-githubactions escapes the message
// and properties, so a message cannot start a new command.
func (r *Runtime) Annotate(a Annotation) {
	props := githubactions.CommandProperties{}
	if a.Path != "" {
		props["file"] = a.Path
		if a.StartLine > 0 {
			props["line"] = strconv.Itoa(a.StartLine)
			props["endLine"] = strconv.Itoa(max(a.EndLine, a.StartLine))
		}
	}
	if a.Title != "" {
		props["title"] = Truncate1(a.Title, maxAnnotationTitle)
	}
	name := "notice"
	switch a.Level {
	case LevelFailure:
		name = "error"
	case LevelWarning:
		name = "warning"
	}
	r.a.IssueCommand(&githubactions.Command{Name: name, Properties: props, Message: Truncate1(a.Message, maxAnnotationMessage)})
}

// SetOutput appends a step output to the GITHUB_OUTPUT file with the
// delimiter syntax, the delimiter random so no value can end it early.
// Without GITHUB_OUTPUT (a local run) it does nothing.
func (r *Runtime) SetOutput(name, value string) error {
	path := r.getenv("GITHUB_OUTPUT")
	if path == "" {
		return nil
	}
	var delim string
	for {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		delim = "slipway_" + hex.EncodeToString(b)
		if !strings.Contains(value, delim) {
			break
		}
	}
	return appendFile(path, fmt.Sprintf("%s<<%s\n%s\n%s\n", name, delim, value, delim))
}

// AppendSummary appends markdown to the job summary (GITHUB_STEP_SUMMARY),
// keeping the step's total within MaxStepSummaryBytes: the part that does
// not fit is cut with a note and later calls write nothing. Without
// GITHUB_STEP_SUMMARY it does nothing.
func (r *Runtime) AppendSummary(markdown string) error {
	path := r.getenv("GITHUB_STEP_SUMMARY")
	if path == "" || r.summaryCut {
		return nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	room := MaxStepSummaryBytes - r.summaryBytes
	if len(markdown) > room {
		markdown = Truncate(markdown, room)
		r.summaryCut = true
	}
	r.summaryBytes += len(markdown)
	return appendFile(path, markdown)
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
