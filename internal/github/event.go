package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ZeroSHA is the "before" of a push that created a branch and the "after"
// of one that deleted it.
const ZeroSHA = "0000000000000000000000000000000000000000"

// maxEventSize bounds the payload read from GITHUB_EVENT_PATH; GitHub's
// webhook payloads are capped at 25 MB.
const maxEventSize = 25 << 20

// Event is the workflow's trigger, from GITHUB_EVENT_NAME and the payload
// at GITHUB_EVENT_PATH. Exactly one of Push, PullRequest and Dispatch is
// set for those events; none for the others.
type Event struct {
	Name        string
	Push        *PushEvent
	PullRequest *PullRequestEvent
	Dispatch    *DispatchEvent
}

// PushEvent is the part of a push payload slipway uses.
type PushEvent struct {
	Ref     string `json:"ref"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Created bool   `json:"created"`
	Deleted bool   `json:"deleted"`
	Forced  bool   `json:"forced"`
}

// NewBranch reports a push that created its branch: there is no "before"
// to compare with.
func (p *PushEvent) NewBranch() bool { return p.Created || p.Before == "" || p.Before == ZeroSHA }

// PullRequestEvent is the part of a pull_request payload slipway uses.
type PullRequestEvent struct {
	Action string
	Number int
	// HeadSHA is the pull request's last commit: checks go there, not on
	// GITHUB_SHA, which is the test merge commit.
	HeadSHA, BaseSHA   string
	HeadRepo, BaseRepo string
	BaseRef            string
}

// FromFork reports a pull request from another repository: its token is
// read-only and it gets no secrets.
func (p *PullRequestEvent) FromFork() bool {
	return p.HeadRepo != "" && !strings.EqualFold(p.HeadRepo, p.BaseRepo)
}

// DispatchEvent is a workflow_dispatch payload.
type DispatchEvent struct {
	Inputs map[string]any `json:"inputs"`
}

// EventError is a payload slipway could not read.
type EventError struct {
	Path string
	Err  error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("reading event payload %s: %v", e.Path, e.Err)
}
func (e *EventError) Unwrap() error { return e.Err }

// ReadEvent reads the payload of event name from path.
func ReadEvent(name, path string) (*Event, error) {
	ev := &Event{Name: name}
	switch name {
	case "push", "pull_request", "workflow_dispatch":
	default:
		return ev, nil
	}
	if path == "" {
		return nil, &EventError{Path: "(GITHUB_EVENT_PATH unset)", Err: errors.New("no payload")}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &EventError{Path: path, Err: err}
	}
	defer f.Close()
	dec := json.NewDecoder(&limitedReader{r: f, n: maxEventSize})
	switch name {
	case "push":
		var p PushEvent
		if err := dec.Decode(&p); err != nil {
			return nil, &EventError{Path: path, Err: err}
		}
		if p.After == "" {
			return nil, &EventError{Path: path, Err: errors.New("push payload without \"after\"")}
		}
		ev.Push = &p
	case "pull_request":
		var raw struct {
			Action      string `json:"action"`
			Number      int    `json:"number"`
			PullRequest struct {
				Number int `json:"number"`
				Head   struct {
					SHA  string `json:"sha"`
					Repo struct {
						FullName string `json:"full_name"`
					} `json:"repo"`
				} `json:"head"`
				Base struct {
					SHA  string `json:"sha"`
					Ref  string `json:"ref"`
					Repo struct {
						FullName string `json:"full_name"`
					} `json:"repo"`
				} `json:"base"`
			} `json:"pull_request"`
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, &EventError{Path: path, Err: err}
		}
		pr := raw.PullRequest
		n := raw.Number
		if n == 0 {
			n = pr.Number
		}
		if n == 0 || pr.Head.SHA == "" {
			return nil, &EventError{Path: path, Err: errors.New("pull_request payload without number or head.sha")}
		}
		ev.PullRequest = &PullRequestEvent{Action: raw.Action, Number: n,
			HeadSHA: pr.Head.SHA, BaseSHA: pr.Base.SHA, BaseRef: pr.Base.Ref,
			HeadRepo: pr.Head.Repo.FullName, BaseRepo: pr.Base.Repo.FullName}
	case "workflow_dispatch":
		var d DispatchEvent
		if err := dec.Decode(&d); err != nil {
			return nil, &EventError{Path: path, Err: err}
		}
		ev.Dispatch = &d
	}
	return ev, nil
}

type limitedReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("payload larger than %d bytes", maxEventSize)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
