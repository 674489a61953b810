package build

import (
	"testing"

	"github.com/fluxcd/pkg/envsubst"
)

// TestKeepExpressionsAsWritten: an expression whose variable cannot be
// resolved survives substitution exactly as written, operators included,
// while the others are substituted.
func TestKeepExpressionsAsWritten(t *testing.T) {
	vars := map[string]string{"APP": "web"}
	keep := map[string]bool{"DOMAIN": true}
	cases := map[string]string{
		"host: ${APP}.${DOMAIN/./-}":         "host: web.${DOMAIN/./-}",
		"a: ${DOMAIN//./-} b: ${DOMAIN,,}":   "a: ${DOMAIN//./-} b: ${DOMAIN,,}",
		"len: ${#DOMAIN} plain: $DOMAIN":     "len: ${#DOMAIN} plain: $DOMAIN",
		"esc: $${APP} $${DOMAIN} ${DOMAIN}":  "esc: ${APP} ${DOMAIN} ${DOMAIN}",
		"other: ${DOMAINX:=x} ${APP:=dflt}":  "other: x web",
		"cost: $$5 and ${DOMAIN:-fallback}!": "cost: $5 and ${DOMAIN:-fallback}!",
	}
	for in, want := range cases {
		got, err := envsubst.Eval(keepExpressions(in, keep), func(name string) (string, bool) {
			v, ok := vars[name]
			return v, ok
		})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("%q became %q, want %q", in, got, want)
		}
	}
}
