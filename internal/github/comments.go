package github

import (
	"context"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v84/github"
)

// CommentAction says what SyncComment did.
type CommentAction string

// Comment actions.
const (
	CommentCreated   CommentAction = "created"
	CommentUpdated   CommentAction = "updated"
	CommentUnchanged CommentAction = "unchanged"
	CommentDeleted   CommentAction = "deleted"
	CommentNone      CommentAction = "none"
)

// CommentMarker is the hidden line that identifies slipway's comment for
// one key (a cluster path) on a pull request.
func CommentMarker(kind, key string) string {
	// "--" would end the HTML comment early.
	key = strings.ReplaceAll(key, "--", "-\u200b-")
	return fmt.Sprintf("<!-- slipway:%s:%s -->", kind, key)
}

// SyncComment makes pull request number hold exactly one comment carrying
// marker, with body: updated in place when it exists, created otherwise,
// deleted when body is "". Duplicates (two runs racing) are deleted. The
// body is cut to MaxCommentBody with the marker kept first.
func (c *Client) SyncComment(ctx context.Context, number int, marker, body string) (CommentAction, error) {
	existing, err := c.markedComments(ctx, number, marker)
	if err != nil {
		return CommentNone, err
	}
	if body == "" {
		for _, ec := range existing {
			if err := c.deleteComment(ctx, ec.GetID()); err != nil {
				return CommentNone, err
			}
		}
		if len(existing) == 0 {
			return CommentNone, nil
		}
		return CommentDeleted, nil
	}
	full := marker + "\n" + Truncate(body, MaxCommentBody-len([]rune(marker))-1)
	if len(existing) == 0 {
		err := c.call(ctx, fmt.Sprintf("creating comment on #%d", number), func() (*gh.Response, error) {
			_, resp, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, &gh.IssueComment{Body: gh.Ptr(full)})
			return resp, err
		})
		if err != nil {
			return CommentNone, err
		}
		return CommentCreated, nil
	}
	for _, dup := range existing[1:] {
		if err := c.deleteComment(ctx, dup.GetID()); err != nil {
			return CommentNone, err
		}
	}
	if existing[0].GetBody() == full {
		return CommentUnchanged, nil
	}
	id := existing[0].GetID()
	err = c.call(ctx, fmt.Sprintf("updating comment %d on #%d", id, number), func() (*gh.Response, error) {
		_, resp, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, id, &gh.IssueComment{Body: gh.Ptr(full)})
		return resp, err
	})
	if err != nil {
		return CommentNone, err
	}
	return CommentUpdated, nil
}

// HasComment reports whether a comment carrying marker exists.
func (c *Client) HasComment(ctx context.Context, number int, marker string) (bool, error) {
	cs, err := c.markedComments(ctx, number, marker)
	return len(cs) > 0, err
}

func (c *Client) markedComments(ctx context.Context, number int, marker string) ([]*gh.IssueComment, error) {
	var found []*gh.IssueComment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		var page []*gh.IssueComment
		var next int
		err := c.call(ctx, fmt.Sprintf("listing comments of #%d", number), func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			page, resp, err = c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, opts)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, ic := range page {
			// The marker opens the body; a quote of it in a reply
			// ("> <!-- slipway…") does not count.
			if strings.HasPrefix(ic.GetBody(), marker) {
				found = append(found, ic)
			}
		}
		if next == 0 {
			return found, nil
		}
		opts.Page = next
	}
}

func (c *Client) deleteComment(ctx context.Context, id int64) error {
	return c.call(ctx, fmt.Sprintf("deleting comment %d", id), func() (*gh.Response, error) {
		return c.gh.Issues.DeleteComment(ctx, c.owner, c.repo, id)
	})
}
