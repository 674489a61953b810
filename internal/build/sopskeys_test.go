package build_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/hcvault"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/kms"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/build"
	"github.com/slipwayhq/slipway/internal/build/sopstest"
)

const plainSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: demo\nstringData:\n  password: s3cret-value-91f2\n"

// decrypt runs d on an encrypted document and returns the password.
func decrypt(t *testing.T, d *build.Decryptor, enc []byte) (string, error) {
	t.Helper()
	js, err := yaml.YAMLToJSON(enc)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	plain, err := d.Decrypt(u, enc)
	if err != nil {
		return "", err
	}
	v, _, _ := unstructured.NestedString(plain.Object, "stringData", "password")
	return v, nil
}

func mustDecryptor(t *testing.T, k build.SOPSKeys, secret map[string]string) *build.Decryptor {
	t.Helper()
	d, err := build.NewSOPSDecryptor(k)
	if err != nil {
		t.Fatal(err)
	}
	if secret != nil {
		if d, err = d.WithSecret("flux-system/sops-keys", secret); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// wantKeysError checks that decryption failed naming the key and, when
// given, the reason class.
func wantKeysError(t *testing.T, err error, key string, class error) {
	t.Helper()
	var ke *build.KeysError
	if !errors.As(err, &ke) {
		t.Fatalf("want a KeysError, got %v", err)
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("the error does not name the key %q: %v", key, err)
	}
	if class != nil && !errors.Is(err, class) {
		t.Errorf("want %v, got %v", class, err)
	}
}

func TestSOPSPGP(t *testing.T) {
	key := sopstest.NewPGPKey(t, "fleet")
	other := sopstest.NewPGPKey(t, "other")
	dk := sopstest.DataKey(t)
	enc := sopstest.Encrypt(t, plainSecret, dk, key.MasterKey(t, dk))

	for name, d := range map[string]*build.Decryptor{
		"flag":   mustDecryptor(t, build.SOPSKeys{PGP: []byte(other.Armored + key.Armored)}, nil),
		"Secret": mustDecryptor(t, build.SOPSKeys{}, map[string]string{"other.asc": other.Armored, "fleet.asc": key.Armored}),
	} {
		got, err := decrypt(t, d, enc)
		if err != nil || got != "s3cret-value-91f2" {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}
	_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{PGP: []byte(other.Armored)}, nil), enc)
	wantKeysError(t, err, "PGP "+key.Fingerprint, nil)
	_, err = decrypt(t, mustDecryptor(t, build.SOPSKeys{Age: ""}, map[string]string{"sops.vault-token": "x"}), enc)
	wantKeysError(t, err, "PGP "+key.Fingerprint, build.ErrNoCredential)
}

// A key slipway cannot use is refused when read, naming where it came
// from and never quoting it.
func TestSOPSPGPKeyRefused(t *testing.T) {
	key := sopstest.NewPGPKey(t, "locked")
	if err := key.Entity.PrivateKey.Encrypt([]byte("passphrase")); err != nil {
		t.Fatal(err)
	}
	for _, sub := range key.Entity.Subkeys {
		if err := sub.PrivateKey.Encrypt([]byte("passphrase")); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	w, _ := armor.Encode(&b, "PGP PRIVATE KEY BLOCK", nil)
	if err := key.Entity.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	public := strings.ReplaceAll(b.String(), "PRIVATE", "PUBLIC")
	cases := map[string]string{"locked": b.String(), "garbage": "-----BEGIN PGP PRIVATE KEY BLOCK-----\nzzzz-not-base64\n-----END PGP PRIVATE KEY BLOCK-----\n", "public only": public}
	for name, armored := range cases {
		d, _ := build.NewSOPSDecryptor(build.SOPSKeys{})
		_, err := d.WithSecret("flux-system/sops-gpg", map[string]string{"identity.asc": armored})
		var ske *build.SecretKeyError
		if !errors.As(err, &ske) || ske.Key != "identity.asc" || ske.Secret != "flux-system/sops-gpg" {
			t.Errorf("%s: want a SecretKeyError naming the Secret and key, got %v", name, err)
			continue
		}
		if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "zzzz") {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}

const awsARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func awsKey(cloud *sopstest.Cloud, dk []byte) *kms.MasterKey {
	blob := "kms-blob-" + base64.StdEncoding.EncodeToString(dk[:6])
	cloud.AWS.Keys[blob] = dk
	return &kms.MasterKey{Arn: awsARN, EncryptedKey: base64.StdEncoding.EncodeToString([]byte(blob)), CreationDate: time.Now()}
}

// noCABundle: the AWS SDK refuses an injected HTTP client when the
// environment names a CA bundle (AWS_CA_BUNDLE, set on some CI machines);
// the fake's CA is in the client already.
func noCABundle(t *testing.T) { t.Setenv("AWS_CA_BUNDLE", "") }

func TestSOPSAWSKMS(t *testing.T) {
	noCABundle(t)
	cloud := sopstest.NewCloud(t)
	cloud.AWS.AccessKeyID, cloud.AWS.SecretAccessKey = "AKIAFAKEEXAMPLE", "fake-aws-secret-key-40c1"
	dk := sopstest.DataKey(t)
	enc := sopstest.Encrypt(t, plainSecret, dk, awsKey(cloud, dk))
	hc := cloud.Client()
	creds := func(secret string) map[string]string {
		return map[string]string{"sops.aws-kms": "aws_access_key_id: AKIAFAKEEXAMPLE\naws_secret_access_key: " + secret + "\n"}
	}

	// No credential: nothing is sent, not even with the runner's own.
	_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc, VaultToken: "unrelated"}, nil), enc)
	wantKeysError(t, err, "AWS KMS "+awsARN, build.ErrNoCredential)
	if seen := cloud.Seen(); len(seen) != 0 {
		t.Fatalf("requests without a credential: %v", seen)
	}
	_, err = decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc}, creds("wrong-secret")), enc)
	wantKeysError(t, err, "AWS KMS "+awsARN, nil)
	if !strings.Contains(err.Error(), "InvalidSignatureException") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("want the signature refused without the secret quoted, got %v", err)
	}
	got, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc}, creds("fake-aws-secret-key-40c1")), enc)
	if err != nil || got != "s3cret-value-91f2" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, s := range cloud.Seen() {
		if s != "POST kms.us-east-1.amazonaws.com /" {
			t.Errorf("unexpected request %s", s)
		}
	}
}

// An ARN whose region is not a region name would put repository text in
// the host name the SDK connects to.
func TestSOPSAWSKMSRegionMustBeARegion(t *testing.T) {
	cloud := sopstest.NewCloud(t)
	dk := sopstest.DataKey(t)
	mk := awsKey(cloud, dk)
	mk.Arn = "arn:aws:kms:evil.test/x#:111122223333:key/1"
	enc := sopstest.Encrypt(t, plainSecret, dk, mk)
	_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: cloud.Client(), CloudCredentials: true}, nil), enc)
	wantKeysError(t, err, "evil.test", nil)
	if len(cloud.Seen()) != 0 {
		t.Errorf("requests sent: %v", cloud.Seen())
	}
}

func TestSOPSVault(t *testing.T) {
	cloud := sopstest.NewCloud(t)
	cloud.Vault.Token = "hvs.fake-vault-token-77aa"
	dk := sopstest.DataKey(t)
	cloud.Vault.Keys["sops vault:v1:fake-ciphertext"] = dk
	mk := hcvault.NewMasterKey("https://vault.example.test", "transit", "sops")
	mk.EncryptedKey = "vault:v1:fake-ciphertext"
	enc := sopstest.Encrypt(t, plainSecret, dk, mk)
	hc := cloud.Client()
	token := map[string]string{"sops.vault-token": "hvs.fake-vault-token-77aa\n"}

	// The address comes from the repository: without the allow-list the
	// token goes nowhere.
	_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc}, token), enc)
	wantKeysError(t, err, "Vault https://vault.example.test/v1/transit/keys/sops", build.ErrAddressNotAllowed)
	_, err = decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc, VaultAddresses: []string{"https://vault.example.test.evil.test"}}, token), enc)
	wantKeysError(t, err, "vault.example.test", build.ErrAddressNotAllowed)
	if len(cloud.Seen()) != 0 {
		t.Fatalf("the token was sent: %v", cloud.Seen())
	}
	_, err = decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc, VaultAddresses: []string{"https://vault.example.test:443"}},
		map[string]string{"sops.vault-token": "hvs.wrong"}), enc)
	wantKeysError(t, err, "vault.example.test", nil)
	if strings.Contains(err.Error(), "hvs.") {
		t.Errorf("the error quotes the token: %v", err)
	}
	got, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc, VaultAddresses: []string{"https://VAULT.example.test"}}, token), enc)
	if err != nil || got != "s3cret-value-91f2" {
		t.Fatalf("got %q, %v", got, err)
	}
	// The flag's token serves too.
	got, err = decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc, VaultAddresses: []string{"https://vault.example.test"}, VaultToken: cloud.Vault.Token}, nil), enc)
	if err != nil || got != "s3cret-value-91f2" {
		t.Fatalf("flag token: got %q, %v", got, err)
	}
}

func TestSOPSGCPKMS(t *testing.T) {
	cloud := sopstest.NewCloud(t)
	dk := sopstest.DataKey(t)
	const res = "projects/fake-project/locations/global/keyRings/fleet/cryptoKeys/sops"
	cloud.GCP.Keys[res+" gcp-ciphertext"] = dk
	enc := sopstest.Encrypt(t, plainSecret, dk, &gcpkms.MasterKey{ResourceID: res, EncryptedKey: base64.StdEncoding.EncodeToString([]byte("gcp-ciphertext")), CreationDate: time.Now()})
	hc := cloud.Client()

	_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc, VaultToken: "unrelated"}, nil), enc)
	wantKeysError(t, err, "GCP KMS "+res, build.ErrNoCredential)
	got, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc}, map[string]string{"sops.gcp-kms": string(cloud.GCP.CredentialsJSON)}), enc)
	if err != nil || got != "s3cret-value-91f2" {
		t.Fatalf("got %q, %v", got, err)
	}
	// Only the credential types Google's key files and workload identity
	// federation write.
	d, _ := build.NewSOPSDecryptor(build.SOPSKeys{})
	var ske *build.SecretKeyError
	if _, err := d.WithSecret("flux-system/gcp", map[string]string{"sops.gcp-kms": `{"type": "gdch_service_account"}`}); !errors.As(err, &ske) || ske.Key != "sops.gcp-kms" {
		t.Errorf("want the credential type refused, got %v", err)
	}
	want := []string{"POST oauth2.googleapis.com /token", "POST cloudkms.googleapis.com /v1/" + res + ":decrypt"}
	if seen := cloud.Seen(); strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func azureKey(cloud *sopstest.Cloud, vaultURL string, dk []byte) *azkv.MasterKey {
	ct := base64.RawURLEncoding.EncodeToString([]byte("azure-ciphertext"))
	cloud.Azure.Keys["sops/v1 "+ct] = dk
	return &azkv.MasterKey{VaultURL: vaultURL, Name: "sops", Version: "v1", EncryptedKey: ct, CreationDate: time.Now()}
}

func TestSOPSAzureKeyVault(t *testing.T) {
	cloud := sopstest.NewCloud(t)
	cloud.Azure.TenantID, cloud.Azure.ClientID, cloud.Azure.ClientSecret = "00000000-0000-0000-0000-0000000000aa", "11111111-0000-0000-0000-0000000000bb", "fake-azure-secret-c3d4"
	dk := sopstest.DataKey(t)
	enc := sopstest.Encrypt(t, plainSecret, dk, azureKey(cloud, "https://myvault.vault.azure.net", dk))
	hc := cloud.Client()
	conf := `{"tenantId": "` + cloud.Azure.TenantID + `", "clientId": "` + cloud.Azure.ClientID + `", "clientSecret": "%s"}`

	_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc}, map[string]string{"sops.azure-kv": strings.Replace(conf, "%s", "wrong-azure-secret", 1)}), enc)
	wantKeysError(t, err, "Azure Key Vault https://myvault.vault.azure.net/keys/sops/v1", nil)
	if strings.Contains(err.Error(), "wrong-azure-secret") {
		t.Errorf("the error quotes the secret: %v", err)
	}
	got, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: hc}, map[string]string{"sops.azure-kv": strings.Replace(conf, "%s", cloud.Azure.ClientSecret, 1)}), enc)
	if err != nil || got != "s3cret-value-91f2" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// A vault URL outside Azure's Key Vault domains names a host the
// repository chose: no token is asked for, nothing is sent.
func TestSOPSAzureKeyVaultHostMustBeAzure(t *testing.T) {
	cloud := sopstest.NewCloud(t)
	dk := sopstest.DataKey(t)
	for _, u := range []string{"https://vault.example.test", "http://myvault.vault.azure.net", "https://vault.azure.net.evil.test", "https://myvault.vault.azure.net:8443"} {
		enc := sopstest.Encrypt(t, plainSecret, dk, azureKey(cloud, u, dk))
		_, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: cloud.Client(), CloudCredentials: true}, nil), enc)
		wantKeysError(t, err, u, build.ErrAddressNotAllowed)
	}
	if len(cloud.Seen()) != 0 {
		t.Errorf("requests sent: %v", cloud.Seen())
	}
}

// Keys of several backends in one group: the first that works wins, and
// a failure lists every key tried.
func TestSOPSSeveralKeys(t *testing.T) {
	noCABundle(t)
	cloud := sopstest.NewCloud(t)
	key := sopstest.NewPGPKey(t, "fleet")
	dk := sopstest.DataKey(t)
	enc := sopstest.Encrypt(t, plainSecret, dk, []keys.MasterKey{awsKey(cloud, dk), key.MasterKey(t, dk)}...)
	got, err := decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: cloud.Client(), PGP: []byte(key.Armored)}, nil), enc)
	if err != nil || got != "s3cret-value-91f2" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = decrypt(t, mustDecryptor(t, build.SOPSKeys{HTTPClient: cloud.Client(), VaultToken: "x", VaultAddresses: []string{"https://a.test"}}, nil), enc)
	wantKeysError(t, err, "AWS KMS "+awsARN, nil)
	wantKeysError(t, err, "PGP "+key.Fingerprint, nil)
}
