package github

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// GitHub's documented limits. Texts are counted in characters (runes), as
// GitHub counts them; the job summary is counted in bytes.
const (
	// MaxCheckRunSummary and MaxCheckRunText bound a check run's
	// output.summary and output.text.
	MaxCheckRunSummary = 65535
	MaxCheckRunText    = 65535
	// MaxAnnotationsPerRequest bounds output.annotations in one create or
	// update request; further updates append.
	MaxAnnotationsPerRequest = 50
	// MaxCommentBody bounds an issue or pull request comment body.
	MaxCommentBody = 65536
	// MaxStatusesPerContext bounds commit statuses per SHA and context.
	MaxStatusesPerContext = 1000
	// MaxStatusDescription bounds a commit status description.
	MaxStatusDescription = 140
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

// Truncate returns s cut to at most limit characters. When it has to cut,
// it cuts at a line end if one is near, and appends a note saying how much
// was left out, so a reader knows the text is incomplete; the note is
// counted within the limit.
func Truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	total := utf8.RuneCountInString(s)
	note := func(kept int) string {
		return fmt.Sprintf("\n\n… cut by slipway: %d of %d characters left out to stay within GitHub's limit of %d.\n", total-kept, total, limit)
	}
	// The note's length depends on the numbers; a generous estimate first.
	budget := limit - utf8.RuneCountInString(note(0)) - 8
	if budget <= 0 {
		return string([]rune(s)[:limit])
	}
	cut := string([]rune(s)[:budget])
	// Prefer a whole line, unless that loses most of the budget.
	if i := strings.LastIndexByte(cut, '\n'); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	// An unclosed code fence would swallow the note in markdown.
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	out := cut + note(utf8.RuneCountInString(cut))
	if utf8.RuneCountInString(out) > limit {
		return string([]rune(out)[:limit])
	}
	return out
}

// TruncateBytes is Truncate for limits counted in bytes (the job summary).
// It never splits a UTF-8 sequence.
func TruncateBytes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	note := fmt.Sprintf("\n\n… cut by slipway: %d of %d bytes left out to stay within GitHub's limit of %d.\n", len(s)-limit, len(s), limit)
	budget := limit - len(note) - 16
	if budget <= 0 {
		// Not even the note fits: write nothing rather than overflow.
		return ""
	}
	for budget > 0 && !utf8.RuneStart(s[budget]) {
		budget--
	}
	cut := s[:budget]
	if i := strings.LastIndexByte(cut, '\n'); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	return cut + note
}
