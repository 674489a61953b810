package github

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// GitHub's documented limits. Check-run texts are counted in bytes, not
// characters: GitHub refuses a longer output.summary or output.text with
// 422 "exceeds a maximum bytesize of 65535", which text with accents, CJK
// or emoji reaches well before 65535 characters. Comment bodies are counted
// in characters, but every text is cut by bytes (see Truncate), which is
// never longer in characters.
const (
	// MaxCheckRunSummary and MaxCheckRunText bound a check run's
	// output.summary and output.text, in bytes.
	MaxCheckRunSummary = 65535
	MaxCheckRunText    = 65535
	// MaxAnnotationBytes bounds an annotation's message (and raw_details):
	// 64 KB.
	MaxAnnotationBytes = 64 << 10
	// MaxAnnotationsPerRequest bounds output.annotations in one create or
	// update request; further updates append.
	MaxAnnotationsPerRequest = 50
	// MaxCommentBody bounds an issue or pull request comment body, in
	// characters.
	MaxCommentBody = 65536
	// MaxStatusesPerContext bounds commit statuses per SHA and context.
	MaxStatusesPerContext = 1000
	// MaxStatusDescription bounds a commit status description.
	MaxStatusDescription = 140
	// MaxDeploymentDescription bounds a deployment status description
	// (GitHub's description of the deployment statuses endpoint).
	MaxDeploymentDescription = 140
	// MaxStepSummaryBytes bounds the job summary one step may write.
	MaxStepSummaryBytes = 1 << 20
	// MaxUIAnnotations is how many error (and, separately, warning)
	// annotations per step the Actions UI shows; more are accepted but
	// hidden.
	MaxUIAnnotations = 10
)

// slipway's own bounds, not GitHub's: an annotation is read in a margin,
// and a title is one line.
const (
	maxAnnotationMessage = 4096
	maxAnnotationTitle   = 255
)

// Truncate returns s cut to at most limit bytes, never inside a UTF-8
// sequence. Counting bytes suits both kinds of GitHub limit: a text of n
// bytes has at most n characters. When it has to cut, it cuts at a line
// end if one is near and appends a note saying how much was left out, so a
// reader knows the text is incomplete; the note is counted within the
// limit.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	note := fmt.Sprintf("\n\n… cut by slipway: %d of %d bytes left out to stay within GitHub's limit of %d.\n", len(s)-limit, len(s), limit)
	// The note's numbers are estimates from the limit; keep some room so
	// the real count of what was left out (a little more) still fits.
	budget := limit - len(note) - 16
	if budget <= 0 {
		// Not even the note fits: a bare cut.
		return s[:runeStart(s, limit)]
	}
	cut := s[:runeStart(s, budget)]
	// Prefer a whole line, unless that loses most of the budget.
	if i := strings.LastIndexByte(cut, '\n'); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	// An unclosed code fence would swallow the note in markdown.
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	out := cut + fmt.Sprintf("\n\n… cut by slipway: %d of %d bytes left out to stay within GitHub's limit of %d.\n", len(s)-len(cut), len(s), limit)
	if len(out) > limit {
		return out[:runeStart(out, limit)]
	}
	return out
}

// Truncate1 cuts a one-line text to at most limit bytes with an ellipsis,
// for fields too short for Truncate's note.
func Truncate1(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	if limit < len(ellipsis) {
		return s[:runeStart(s, limit)]
	}
	return s[:runeStart(s, limit-len(ellipsis))] + ellipsis
}

// runeStart returns the largest i <= n at which a UTF-8 sequence of s
// starts, so s[:i] is valid text when s is.
func runeStart(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
