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
// at GITHUB_EVENT_PATH. Exactly one of Push, PullRequest, MergeGroup and
// Dispatch is set for those events; none for the others.
type Event struct {
	Name        string
	Push        *PushEvent
	PullRequest *PullRequestEvent
	MergeGroup  *MergeGroupEvent
	Dispatch    *DispatchEvent
}

// MergeGroupEvent is the part of a merge_group payload slipway uses. A merge
// queue asks for the required checks of a temporary branch that holds the
// base plus the queued pull requests; the queue merges only once they pass
// on HeadSHA.
type MergeGroupEvent struct {
	// Action is "checks_requested" (or "destroyed", when the group is
	// dropped: nothing to check).
	Action  string
	HeadSHA string
	HeadRef string
	BaseSHA string
	BaseRef string
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

// NewRef reports a push that created its branch or tag: there is no
// "before" to compare with.
func (p *PushEvent) NewRef() bool { return p.Created || p.Before == "" || p.Before == ZeroSHA }

// IsTag reports a push of a tag rather than a branch.
func (p *PushEvent) IsTag() bool { return strings.HasPrefix(p.Ref, "refs/tags/") }

// RefKind names what was pushed, for messages: "tag v1.2" or "branch main".
func (p *PushEvent) RefKind() string {
	if p.IsTag() {
		return "tag " + strings.TrimPrefix(p.Ref, "refs/tags/")
	}
	if b, ok := strings.CutPrefix(p.Ref, "refs/heads/"); ok {
		return "branch " + b
	}
	return p.Ref
}

// PullRequestEvent is the part of a pull_request payload slipway uses.
type PullRequestEvent struct {
	Action string
	Number int
	// HeadSHA is the pull request's last commit: checks go there, not on
	// GITHUB_SHA, which is the test merge commit.
	HeadSHA, BaseSHA   string
	HeadRepo, BaseRepo string
	BaseRef            string
	// HeadRepoDeleted is set when the payload's head.repo is null: the
	// repository the pull request came from was deleted.
	HeadRepoDeleted bool
}

// FromFork reports a pull request from another repository: its token is
// read-only and it gets no secrets. One whose head repository was deleted
// counts as a fork: nothing says it was this repository, and GitHub treats
// it so (the token it gets is read-only).
func (p *PullRequestEvent) FromFork() bool {
	if p.HeadRepoDeleted {
		return true
	}
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
	case "push", "pull_request", "merge_group", "workflow_dispatch":
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
					SHA string `json:"sha"`
					// A pointer: null when the head repository was deleted.
					Repo *struct {
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
			BaseRepo: pr.Base.Repo.FullName, HeadRepoDeleted: pr.Head.Repo == nil}
		if pr.Head.Repo != nil {
			ev.PullRequest.HeadRepo = pr.Head.Repo.FullName
		}
	case "merge_group":
		mg, err := decodeMergeGroup(dec)
		if err != nil {
			return nil, &EventError{Path: path, Err: err}
		}
		ev.MergeGroup = mg
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

func decodeMergeGroup(dec *json.Decoder) (*MergeGroupEvent, error) {
	var raw struct {
		Action     string `json:"action"`
		MergeGroup struct {
			HeadSHA string `json:"head_sha"`
			HeadRef string `json:"head_ref"`
			BaseSHA string `json:"base_sha"`
			BaseRef string `json:"base_ref"`
		} `json:"merge_group"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	g := raw.MergeGroup
	if g.HeadSHA == "" {
		return nil, errors.New("merge_group payload without merge_group.head_sha")
	}
	return &MergeGroupEvent{Action: raw.Action, HeadSHA: g.HeadSHA, HeadRef: g.HeadRef, BaseSHA: g.BaseSHA, BaseRef: g.BaseRef}, nil
}
