package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/hcvault"

	"github.com/slipwayhq/slipway/internal/build/sopstest"
)

// sopsRepo writes a repository whose Kustomization apps decrypts with the
// Secret flux-system/sops-keys, as Flux's spec.decryption names it, and
// holds a PGP-encrypted Secret (password pgpValue) and a Secret only a
// Vault and an Azure Key Vault key could decrypt.
func sopsRepo(t *testing.T, key sopstest.PGPKey, pgpValue string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	ks := func(name, path, extra string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" + extra
	}
	dk := sopstest.DataKey(t)
	pgpSecret := sopstest.Encrypt(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: demo\nstringData:\n  password: "+pgpValue+"\n", dk, key.MasterKey(t, dk))
	vault := hcvault.NewMasterKey("https://vault.attacker.test", "transit", "sops")
	vault.EncryptedKey = "vault:v1:unused"
	az := &azkv.MasterKey{VaultURL: "https://keys.attacker.test", Name: "sops", Version: "v1", EncryptedKey: "dW51c2Vk", CreationDate: time.Now()}
	kmsSecret := sopstest.Encrypt(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: demo\nstringData:\n  token: unused\n", dk, vault, az)
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml":     "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  ref:\n    branch: main\n  url: https://github.com/acme/fleet\n---\n" + ks("flux-system", "./clusters/dev", ""),
		"clusters/dev/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
		"clusters/dev/apps.yaml":                      ks("apps", "./apps", "  decryption:\n    provider: sops\n    secretRef:\n      name: sops-keys\n"),
		"apps/kustomization.yaml":                     "resources:\n  - ns.yaml\n  - db.sops.yaml\n",
		"apps/ns.yaml":                                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
		"apps/db.sops.yaml":                           string(pgpSecret),
		"kms/kustomization.yaml":                      "resources:\n  - api.sops.yaml\n",
		"kms/api.sops.yaml":                           string(kmsSecret),
	}
	for name, content := range files {
		writeTestFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
	return dir
}

func writeTestFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// indent makes a block scalar of s.
func indent(s, by string) string {
	return by + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+by) + "\n"
}

// A PGP-encrypted Secret decrypts with the key from --sops-pgp-key-file,
// and with the *.asc key of the Kustomization's decryption Secret given
// as an external object; without either it is reported, not decrypted.
func TestSOPSPGPFromFlagAndSecret(t *testing.T) {
	key := sopstest.NewPGPKey(t, "fleet")
	const value = "pgp-decrypted-value-5a1e"
	repo := sopsRepo(t, key, value)
	keyFile := filepath.Join(t.TempDir(), "fleet.asc")
	writeTestFile(t, keyFile, key.Armored)
	ext := filepath.Join(t.TempDir(), "sops-keys.yaml")
	writeTestFile(t, ext, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-keys\n  namespace: flux-system\nstringData:\n  fleet.asc: |\n"+indent(key.Armored, "    "))

	r := runCLI(t, nil, "build", "--repo", repo, "--cache-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.out+r.err, "ENC[") {
		t.Fatalf("without a key the Secret must stay encrypted: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	for name, args := range map[string][]string{
		"flag":   {"--sops-pgp-key-file", keyFile},
		"Secret": {"--external-objects", ext},
	} {
		// build masks Secret values; -o json too. The decrypted Secret
		// shows as data the build output has without ENC[ values.
		r := runCLI(t, nil, append([]string{"build", "--repo", repo, "--cache-dir", t.TempDir()}, args...)...)
		if r.code != 0 || strings.Contains(r.out, "ENC[") {
			t.Errorf("%s: exit %d, want the Secret decrypted\n%s\n%s", name, r.code, r.out, r.err)
		}
		if strings.Contains(r.out+r.err, value) {
			t.Errorf("%s: the decrypted value is printed", name)
		}
	}
	// A decryption Secret with a key slipway cannot read: a finding at the
	// encrypted file naming the Secret and its key, not quoting it.
	writeTestFile(t, ext, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-keys\n  namespace: flux-system\nstringData:\n  ci.asc: not-a-key-e03b\n")
	r = runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir(), "--external-objects", ext)
	if r.code != 1 || !strings.Contains(r.out, "apps/db.sops.yaml:1 [sops]") || !strings.Contains(r.out, "decryption Secret flux-system/sops-keys, key ci.asc:") ||
		strings.Contains(r.out+r.err, "not-a-key-e03b") {
		t.Fatalf("unreadable decryption Secret: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// The wrong key: a finding at the file naming the key that failed.
	other := sopstest.NewPGPKey(t, "other")
	writeTestFile(t, keyFile, other.Armored)
	r = runCLI(t, nil, "validate", "--repo", repo, "--cache-dir", t.TempDir(), "--sops-pgp-key-file", keyFile)
	if r.code != 1 || !strings.Contains(r.out, "apps/db.sops.yaml:1 [sops]") || !strings.Contains(r.out, "PGP "+key.Fingerprint+": not one of the given PGP keys") {
		t.Fatalf("wrong key: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

// Credentials given to slipway for SOPS never appear in anything it
// prints, whether decryption works or is refused: the PGP private key,
// the Vault token (its address is not allowed), the cloud credentials of
// the decryption Secret (an Azure vault outside Azure is refused).
func TestSOPSCredentialCanariesNeverPrinted(t *testing.T) {
	const (
		vaultToken  = "hvs.canary-vault-token-0b7e"
		awsSecret   = "canary-aws-secret-key-e19c"
		azureSecret = "canary-azure-client-secret-6d2f"
		decrypted   = "canary-pgp-decrypted-8c3a"
	)
	key := sopstest.NewPGPKey(t, "fleet")
	keyLines := strings.Split(strings.TrimSpace(key.Armored), "\n")
	keyBody := keyLines[len(keyLines)/2]
	canaries := []string{vaultToken, awsSecret, azureSecret, decrypted, keyBody}
	repo := sopsRepo(t, key, decrypted)
	writeTestFile(t, filepath.Join(repo, "apps/kustomization.yaml"), "resources:\n  - ns.yaml\n  - db.sops.yaml\n  - ../kms\n")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "vault-token")
	writeTestFile(t, tokenFile, vaultToken+"\n")
	ext := filepath.Join(dir, "sops-keys.yaml")
	writeTestFile(t, ext, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-keys\n  namespace: flux-system\nstringData:\n"+
		"  fleet.asc: |\n"+indent(key.Armored, "    ")+
		"  sops.aws-kms: |\n    aws_access_key_id: AKIACANARY\n    aws_secret_access_key: "+awsSecret+"\n"+
		"  sops.azure-kv: '{\"tenantId\": \"t\", \"clientId\": \"c\", \"clientSecret\": \""+azureSecret+"\"}'\n")
	common := []string{"--repo", repo, "--cache-dir", t.TempDir(), "--external-objects", ext,
		"--sops-vault-token-file", tokenFile, "--sops-vault-address", "https://vault.example.test"}
	for _, args := range [][]string{{"validate"}, {"validate", "-o", "json"}, {"build"}, {"build", "-o", "json"}} {
		r := runCLI(t, nil, append(args, common...)...)
		out := r.out + r.err
		// build prints the objects, validate the findings.
		if args[0] == "validate" && (r.code != 1 || !strings.Contains(out, "not to https://vault.attacker.test:443") || !strings.Contains(out, "https://keys.attacker.test is not an Azure Key Vault host")) {
			t.Errorf("%v: exit %d, want the Vault and Azure keys refused\n%.3000s", args, r.code, out)
		}
		for _, c := range canaries {
			if strings.Contains(out, c) {
				t.Errorf("%v (exit %d) printed the secret %s:\n%s", args, r.code, c, lineWith(out, c))
			}
		}
	}
	// Unreadable inputs are refused naming the flag, not quoting them.
	bad := filepath.Join(dir, "bad.asc")
	writeTestFile(t, bad, "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"+keyBody+"\n-----END PGP PRIVATE KEY BLOCK-----\n")
	r := runCLI(t, nil, "validate", "--repo", repo, "--sops-pgp-key-file", bad)
	if r.code == 0 || strings.Contains(r.out+r.err, keyBody) {
		t.Errorf("a bad PGP key file: exit %d\n%s", r.code, r.err)
	}
	r = runCLI(t, nil, "validate", "--repo", repo, "--sops-vault-token-file", tokenFile)
	if r.code != 2 || !strings.Contains(r.err, "--sops-vault-address") || strings.Contains(r.out+r.err, vaultToken) {
		t.Errorf("a Vault token without addresses: exit %d\n%s", r.code, r.err)
	}
}
