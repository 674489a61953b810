package validate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		want string // prefix of the result
		full bool   // the message is kept whole
	}{
		{name: "short", msg: "field not declared in schema", full: true},
		{name: "at the bound", msg: strings.Repeat("a", maxMessageBytes), full: true},
		{name: "over the bound", msg: strings.Repeat("a", maxMessageBytes+10), want: strings.Repeat("a", maxMessageBytes) + "… (10 more bytes)"},
		// A three-byte character across the bound is not split.
		{name: "multibyte", msg: strings.Repeat("a", maxMessageBytes-1) + "ｓｓ", want: strings.Repeat("a", maxMessageBytes-1) + "… (6 more bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clipMessage(tc.msg)
			if tc.full && got != tc.msg {
				t.Errorf("clipped a message within the bound: %q", got)
			}
			if !tc.full && got != tc.want {
				t.Errorf("got %q…, want %q…", got[max(0, len(got)-30):], tc.want[max(0, len(tc.want)-30):])
			}
			if !utf8.ValidString(got) {
				t.Error("the clipped message is not valid UTF-8")
			}
		})
	}
}
