package clustertest

import (
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/github"
	"github.com/slipwayhq/slipway/internal/testutil/fakests"
	"github.com/slipwayhq/slipway/internal/testutil/oidcissuer"
)

// A workflow with auth: eks deploys with no secret: the action exchanges
// the job's OIDC token at (fake) STS for the role's credentials and signs
// an EKS token; the local API server verifies it through a webhook
// authenticator that calls the fake STS, as EKS does. STS is reached
// through AWS_ENDPOINT_URL_STS and trusted through AWS_CA_BUNDLE, the
// variables AWS's own tools honour. Another environment is refused by the
// role's trust policy and deploys nothing.
func TestEKSDeploys(t *testing.T) {
	if local == nil {
		t.Skip(skipReason)
	}
	const role = "arn:aws:iam::" + fakests.Account + ":role/slipway-deployer"
	iss := oidcissuer.New(t)
	runner := iss.NewRunner(t, prodJob, 10*time.Minute)
	sts := fakests.NewSTS(t, "eu-west-1", role, iss.Verify, prodJob.Subject())
	webhook := fakests.NewAuthenticator(t, sts, "prod-cluster")
	w := newCloudWorld(t, runner, webhook.ConfigFile(t), role, map[string]string{
		"INPUT_AUTH":     "eks",
		"INPUT_ROLE-ARN": role, "INPUT_AWS-REGION": "eu-west-1", "INPUT_CLUSTER-NAME": "prod-cluster",
		"AWS_ENDPOINT_URL_STS": sts.URL, "AWS_CA_BUNDLE": caFile(t, sts.CAPEM()),
	})
	r, res := w.push()
	if res != github.ConclusionSuccess || w.deployed() != "1" {
		t.Fatalf("eks deploy: %s, version %q\n%s", res, w.deployed(), r.Log.String())
	}
	if !strings.Contains(r.Log.String(), "as "+role) {
		t.Errorf("the log does not name the role:\n%s", r.Log.String())
	}
	runner.SetClaims(oidcissuer.Claims{Repository: prodJob.Repository, Environment: "staging", Ref: prodJob.Ref})
	r, res = w.push()
	if res != github.ConclusionFailure || !strings.Contains(r.Log.String(), "AccessDenied") {
		t.Errorf("staging: %s\n%s", res, r.Log.String())
	}
}
