package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/result"
)

// API server errors can echo field values; a value that came from a Secret
// must not reach the deploy output in either format.
func TestDeployOutputMasksSecretValues(t *testing.T) {
	const secret = "s3cr3t-from-a-secret"
	cd := &result.ClusterDeploy{Path: "clusters/x", Kustomizations: []*result.KustomizationDeploy{{
		Ref:    result.KustomizationRef{Namespace: "flux-system", Name: "apps"},
		Status: result.StatusFailed,
		Error:  `ConfigMap "db" is invalid: data.url: Invalid value: "postgres://app:` + secret + `@db"`,
		Changes: []result.Change{{ID: result.ObjectID{Kind: "ConfigMap", Namespace: "a", Name: "db"},
			Action: result.ActionFailed, Message: "rejected: " + secret}},
	}}}
	m := NewMasker([]string{secret})
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text": func(b *bytes.Buffer) error { return DeployText(b, []*result.ClusterDeploy{cd}, m) },
		"json": func(b *bytes.Buffer) error { return DeployJSON(b, []*result.ClusterDeploy{cd}, m) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), secret) {
			t.Errorf("%s output contains the secret value:\n%s", name, b.String())
		}
		if !strings.Contains(b.String(), Redacted) {
			t.Errorf("%s output should show where a value was masked:\n%s", name, b.String())
		}
	}
}
