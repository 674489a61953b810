package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v84/github"
)

// IssueAction says what SyncIssue did.
type IssueAction string

// Issue actions.
const (
	IssueOpened    IssueAction = "opened"
	IssueUpdated   IssueAction = "updated"
	IssueClosed    IssueAction = "closed"
	IssueUnchanged IssueAction = "unchanged"
)

// TrackedIssue is one issue slipway keeps open while a problem persists:
// found again by Label and the hidden Marker in its body, so there is never
// more than one per marker.
type TrackedIssue struct {
	Label, Marker, Title string
	// Body is the issue's text while the problem persists; "" means it is
	// over: the issue is closed with CloseComment.
	Body, CloseComment string
}

// SyncIssue opens or updates the issue of t while t.Body is set, and
// closes it with a comment once it is not. Duplicates (two runs racing)
// are closed too.
func (c *Client) SyncIssue(ctx context.Context, t TrackedIssue) (IssueAction, int, error) {
	open, err := c.markedIssues(ctx, t.Label, t.Marker)
	if err != nil {
		return IssueUnchanged, 0, err
	}
	if t.Body == "" {
		for _, n := range open {
			if err := c.closeIssue(ctx, n, t.CloseComment); err != nil {
				return IssueUnchanged, n, err
			}
		}
		if len(open) == 0 {
			return IssueUnchanged, 0, nil
		}
		return IssueClosed, open[0], nil
	}
	body := t.Marker + "\n" + Truncate(t.Body, MaxCommentBody-len([]rune(t.Marker))-1)
	if len(open) == 0 {
		var n int
		err := c.call(ctx, "opening issue "+t.Title, func() (*gh.Response, error) {
			is, resp, err := c.gh.Issues.Create(ctx, c.owner, c.repo, &gh.IssueRequest{Title: gh.Ptr(t.Title), Body: gh.Ptr(body), Labels: &[]string{t.Label}})
			n = is.GetNumber()
			return resp, err
		})
		return IssueOpened, n, err
	}
	for _, dup := range open[1:] {
		if err := c.closeIssue(ctx, dup, fmt.Sprintf("Duplicate of #%d.", open[0])); err != nil {
			return IssueUnchanged, dup, err
		}
	}
	err = c.call(ctx, fmt.Sprintf("updating issue #%d", open[0]), func() (*gh.Response, error) {
		_, resp, err := c.gh.Issues.Edit(ctx, c.owner, c.repo, open[0], &gh.IssueRequest{Body: gh.Ptr(body)})
		return resp, err
	})
	return IssueUpdated, open[0], err
}

// markedIssues returns the open issues (not pull requests) with label
// whose body starts with marker, oldest first.
func (c *Client) markedIssues(ctx context.Context, label, marker string) ([]int, error) {
	opts := &gh.IssueListByRepoOptions{State: "open", Labels: []string{label}, Sort: "created", Direction: "asc", ListOptions: gh.ListOptions{PerPage: 100}}
	var out []int
	for {
		var page []*gh.Issue
		var resp *gh.Response
		err := c.call(ctx, "listing issues labelled "+label, func() (*gh.Response, error) {
			var err error
			page, resp, err = c.gh.Issues.ListByRepo(ctx, c.owner, c.repo, opts)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, is := range page {
			if !is.IsPullRequest() && strings.HasPrefix(is.GetBody(), marker) {
				out = append(out, is.GetNumber())
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.ListOptions.Page = resp.NextPage
	}
}

func (c *Client) closeIssue(ctx context.Context, n int, comment string) error {
	if comment != "" {
		err := c.call(ctx, fmt.Sprintf("commenting on issue #%d", n), func() (*gh.Response, error) {
			_, resp, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, n, &gh.IssueComment{Body: gh.Ptr(Truncate(comment, MaxCommentBody))})
			return resp, err
		})
		if err != nil {
			return err
		}
	}
	return c.call(ctx, fmt.Sprintf("closing issue #%d", n), func() (*gh.Response, error) {
		_, resp, err := c.gh.Issues.Edit(ctx, c.owner, c.repo, n, &gh.IssueRequest{State: gh.Ptr("closed"), StateReason: gh.Ptr("completed")})
		return resp, err
	})
}
