package reconcile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/internal/deploy"
	"github.com/slipwayhq/slipway/internal/result"
	"github.com/slipwayhq/slipway/internal/source"
)

// A reconcile redeploys what each cluster path runs (its deploy record
// names the commit), not what the branch holds now, so a hand edit is
// reverted without also shipping whatever was merged since. That commit is
// built from the checkout's Git objects (actions/checkout with
// fetch-depth: 0, or any full clone), never from the worktree, and a
// commit the checkout lacks is a failure, never a silent deploy of
// something else.

// MissingCommitError: a commit to deploy is not in the local repository.
type MissingCommitError struct {
	Commit string
	Err    error
}

func (e *MissingCommitError) Error() string {
	cause := oneLine(e.Err.Error())
	var rev *source.RevisionError
	if errors.As(e.Err, &rev) {
		cause = oneLine(rev.Err.Error())
	}
	return fmt.Sprintf("commit %s is not in the local repository (%s); check out the full history (actions/checkout with fetch-depth: 0). Nothing else was deployed in its place.", Short(e.Commit), cause)
}

func (e *MissingCommitError) Unwrap() error { return e.Err }

// NotCheckoutError: the repository is not a Git checkout, so no commit but
// the files on disk can be built, and a reconcile cannot know what it
// deploys.
type NotCheckoutError struct {
	// Err is why the checkout's commit is unknown; nil when the directory
	// is not in a Git repository at all.
	Err error
}

func (e *NotCheckoutError) Error() string {
	return "the workspace is not a Git checkout, so no other commit than the checkout can be built"
}

func (e *NotCheckoutError) Unwrap() error { return e.Err }

// NotRootError: the repository is a directory below a Git checkout's root
// (a fleet kept in a subdirectory). Its commit is the checkout's, as apply
// records it, but another commit's tree is the whole repository's, not
// this directory's, so only the checkout itself can be reconciled.
type NotRootError struct {
	Dir, Commit string
}

func (e *NotRootError) Error() string {
	return fmt.Sprintf("commit %s cannot be built: %s is below its Git checkout's root, and only the commit checked out can be built from a subdirectory; give the checkout's root as the repository (or reconcile to the checkout). Nothing was deployed in its place.", Short(e.Commit), e.Dir)
}

// selectTarget picks the commit a reconcile deploys for one cluster path
// from its deploy record: the recorded one, which must be in the local
// repository (open checks it); the checkout (head) when nothing is
// recorded.
func selectTarget(rec deploy.Record, head string, open func(commit string) error) result.ReconcileTarget {
	t := result.ReconcileTarget{Recorded: recordOf(rec)}
	switch {
	case rec.Revision == "":
		t.Commit, t.Reason = head, result.TargetNoRecord
		return t
	case rec.Revision == head:
		t.Commit, t.Reason = head, result.TargetCheckout
		return t
	}
	t.Reason = result.TargetRecorded
	if err := open(rec.Revision); err != nil {
		t.Err = missing(rec.Revision, err)
		return t
	}
	t.Commit = rec.Revision
	return t
}

// missing is the error of a commit that cannot be opened: not below the
// checkout's root, else not in the local repository.
func missing(commit string, err error) error {
	var nr *NotRootError
	if errors.As(err, &nr) {
		return err
	}
	return &MissingCommitError{Commit: commit, Err: err}
}

// recordOf is the result model's copy of a record; nil when none.
func recordOf(rec deploy.Record) *result.DeployRecord {
	if rec.Revision == "" && rec.Outcome == "" {
		return nil
	}
	return &result.DeployRecord{Revision: rec.Revision, At: rec.At, By: rec.By, Version: rec.Version, Outcome: rec.Outcome}
}

// Short is a commit's first 12 hex digits, as the reports show it.
func Short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
