package validate_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil"
)

// TestEncryptedSecretsPerApp: Kustomizations sharing a component with an
// encrypted Secret named from ${APP} emit one Secret each; validation,
// without the key, reports no duplicate and says the Secrets were not
// decrypted.
func TestEncryptedSecretsPerApp(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "fidelity", "sops-substitution", "repo")
	got, _ := testutil.Validate(t, dir, testutil.BuildOptions{}, "")
	if strings.Contains(got, "[duplicate]") || strings.Contains(got, "✗") {
		t.Errorf("unexpected errors:\n%s", got)
	}
	for _, want := range []string{"Secret/media/radarr-volsync-secret: SOPS-encrypted Secret not decrypted", "Secret/media/sonarr-volsync-secret: SOPS-encrypted Secret not decrypted"} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
}
