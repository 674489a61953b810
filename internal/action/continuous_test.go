package action_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/action/actiontest"
)

// Inputs of reconciles and rollbacks that cannot work are refused before
// anything is built, saying why.
func TestContinuousInputsRefused(t *testing.T) {
	f := actiontest.NewFleet(t)
	sha := f.Commit("first")
	for _, tc := range []struct {
		name, event string
		payload     map[string]any
		inputs      map[string]string
		want        string
	}{
		{"revision without mode deploy", "workflow_dispatch", map[string]any{"inputs": map[string]any{}},
			map[string]string{"INPUT_MODE": "reconcile", "INPUT_REVISION": sha}, "input revision"},
		{"revision on a push", "push", map[string]any{"ref": "refs/heads/main", "before": sha, "after": sha},
			map[string]string{"INPUT_MODE": "deploy", "INPUT_REVISION": sha, "INPUT_KUBECONFIG": "x"}, "use it from workflow_dispatch"},
		{"reconcile without a kubeconfig", "workflow_dispatch", map[string]any{"inputs": map[string]any{}},
			map[string]string{"INPUT_MODE": "reconcile"}, "mode reconcile redeploys what the cluster runs"},
		{"reconcile-to unknown", "schedule", map[string]any{"schedule": "0 * * * *"},
			map[string]string{"INPUT_RECONCILE-TO": "latest"}, "want recorded or head"},
		{"environment mapping broken", "schedule", map[string]any{"schedule": "0 * * * *"},
			map[string]string{"INPUT_ENVIRONMENT": "clusters/a="}, "want CLUSTER_PATH=ENVIRONMENT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := actiontest.NewRunner(t, nil, f.Dir, tc.event, tc.payload)
			r.Env["GITHUB_SHA"] = sha
			for k, v := range tc.inputs {
				r.Env[k] = v
			}
			if out := r.Run(); out.ExitCode != 1 {
				t.Fatalf("exit %d, want 1\n%s", out.ExitCode, r.Log.String())
			}
			if sum := r.File("summary"); !strings.Contains(sum, tc.want) {
				t.Errorf("summary does not say %q:\n%s", tc.want, sum)
			}
		})
	}
}
