package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/deploy/deploytest"
)

// `slipway apply` validates before it touches the cluster: a Kustomization
// with an invalid object is not deployed at all (and says why, at the
// object's file and line), an independent one is, and the run fails.
// --skip-validation leaves the decision to the API server.
func TestApplyValidatesFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "gate")
	bin := buildCLI(t)
	ns := e.ID
	good, bad := "apps/"+e.ID+"/good", "apps/"+e.ID+"/bad"
	e.Write(map[string]string{
		e.Path + "/good.yaml":        e.Kustomization("good", good),
		good + "/kustomization.yaml": deploytest.Kustomize("ns.yaml", "cm.yaml"),
		good + "/ns.yaml":            deploytest.NamespaceYAML(ns),
		good + "/cm.yaml":            deploytest.ConfigMapYAML(ns, "fine", nil),
		e.Path + "/bad.yaml":         e.Kustomization("bad", bad, "dependsOn: [{name: "+e.Name("good")+"}]"),
		bad + "/kustomization.yaml":  deploytest.Kustomize("cm.yaml", "deploy.yaml"),
		bad + "/cm.yaml":             deploytest.ConfigMapYAML(ns, "would-be-created", nil),
		// replicas misspelt: the API server would reject it (strict field
		// validation) after the ConfigMap of the same Kustomization was
		// created; slipway refuses the whole Kustomization up front.
		bad + "/deploy.yaml": strings.Replace(deploytest.DeploymentYAML(ns, "web", "web"), "replicas: 1", "replcas: 1", 1),
	})
	run := func(args ...string) (string, int) {
		t.Helper()
		var out bytes.Buffer
		cmd := exec.Command(bin, append([]string{"apply", "--repo", e.Dir, "--path", e.Path, "--kubeconfig", local.Kubeconfig, "--lock-ttl", "3s"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(), "SLIPWAY_KUBECONFIG=", "GITHUB_RUN_ID=")
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	out, code := run()
	if code != 1 {
		t.Fatalf("apply with an invalid Kustomization: exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, bad+"/deploy.yaml:") || !strings.Contains(out, "replcas") || !strings.Contains(out, "not deployed") {
		t.Errorf("the output does not name the invalid object's file and field:\n%s", out)
	}
	mustGet(t, "v1 ConfigMap", ns, "fine")
	if !gone(t, "v1 ConfigMap", ns, "would-be-created") {
		t.Errorf("an object of the invalid Kustomization was applied")
	}
	if _, code := run("--skip-validation"); code != 1 {
		t.Errorf("--skip-validation: exit %d, want 1 (the API server rejects the Deployment)", code)
	}
}
