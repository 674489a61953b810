package yamlcheck

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		wantLine int
		wantErr  error
		docs     int
	}{
		{name: "two documents", in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n", docs: 2},
		{name: "empty", in: "", docs: 0},
		{name: "only separators", in: "---\n---\n", docs: 0},
		{name: "duplicate key", in: "a: 1\nb:\n  c: 1\n  c: 2\n", wantLine: 4, wantErr: ErrDuplicateKey},
		{name: "merge keys are not duplicates", in: "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n", docs: 1},
		{name: "syntax error at the defect", in: "data:\n  A: \"x\"\n   B: info\n  C: y\n", wantLine: 3},
		{name: "alias bomb", in: bomb(), wantErr: ErrAliasBomb},
		{name: "core tags", in: "a: !!binary aGk=\nb: !!str 1\nc: ! x\nd: !!map {e: 1}\n", docs: 1},
		{name: "custom tag", in: "a: 1\nb: !vault secret/db\n", wantLine: 2, wantErr: ErrUnknownTag},
		{name: "language tag", in: "a:\n  - !!python/object:os.system ls\n", wantLine: 2, wantErr: ErrUnknownTag},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Check([]byte(tc.in))
			if tc.wantErr == nil && tc.wantLine == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(docs) != tc.docs {
					t.Fatalf("got %d documents, want %d", len(docs), tc.docs)
				}
				return
			}
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("want a *LineError, got %v", err)
			}
			if tc.wantLine != 0 && le.Line != tc.wantLine {
				t.Errorf("line %d, want %d (%v)", le.Line, tc.wantLine, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// bomb is a "billion laughs" document: nine aliases per level, 12 levels.
func bomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol]\n")
	for i := 1; i <= 12; i++ {
		b.WriteString("a")
		b.WriteString(itoa(i))
		b.WriteString(": &a")
		b.WriteString(itoa(i))
		b.WriteString(" [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
