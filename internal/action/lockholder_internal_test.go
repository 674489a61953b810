package action

import (
	"strings"
	"testing"
)

// Two jobs, or two attempts, of one run never share a lock holder.
func TestLockHolderUnique(t *testing.T) {
	env := map[string]string{"GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "deploy"}
	get := func(k string) string { return env[k] }
	const url = "https://github.example/acme/fleet/actions/runs/42"
	a := lockHolder(get, url, "aaaa")
	if a != url+"/attempts/2 job deploy #aaaa" {
		t.Errorf("holder %q", a)
	}
	if b := lockHolder(get, url, "bbbb"); b == a {
		t.Error("two processes of one job share a holder")
	}
	env["GITHUB_JOB"] = "deploy-eu"
	if c := lockHolder(get, url, "aaaa"); c == a {
		t.Error("two jobs share a holder")
	}
	env["GITHUB_RUN_ATTEMPT"] = "3"
	if c := lockHolder(get, url, "aaaa"); !strings.Contains(c, "/attempts/3") {
		t.Errorf("holder %q lacks the attempt", c)
	}
	if lockHolder(get, "", "aaaa") != "" {
		t.Error("without a run URL the deployer's own holder (host and pid) should be kept")
	}
	if n1, n2 := newNonce(), newNonce(); n1 == n2 || len(n1) != 12 {
		t.Errorf("nonces %q %q", n1, n2)
	}
}
