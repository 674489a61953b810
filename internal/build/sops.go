package build

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"golang.org/x/oauth2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/slipwayhq/slipway/internal/source"
)

// ErrMACMismatch means the decrypted values do not match the file's MAC.
var ErrMACMismatch = errors.New("MAC mismatch: the encrypted file was modified")

// ErrNoKey means an object is SOPS-encrypted and no key was given.
var ErrNoKey = errors.New("SOPS-encrypted and no decryption key was given")

// DecryptError says why a SOPS-encrypted object could not be decrypted. It
// never carries plaintext.
type DecryptError struct {
	Kind, Namespace, Name string
	Err                   error
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("decrypting %s %s/%s: %v", e.Kind, e.Namespace, e.Name, e.Err)
}
func (e *DecryptError) Unwrap() error { return e.Err }

// Decryptor decrypts SOPS-encrypted Secrets in memory, as
// kustomize-controller does, with the keys of every backend Flux supports:
// age, PGP, AWS KMS, GCP KMS, Azure Key Vault and HashiCorp Vault (see
// sopskeys.go for where each may send what). A Decryptor is immutable:
// WithSecret returns a new one holding a Kustomization's own keys too.
type Decryptor struct {
	age sopsage.ParsedIdentities
	// pgp are the armored PGP private keys, de-armored (see sopspgp.go).
	pgp pgpKeys
	// vaultToken goes only to vaultAddresses (normalised origins).
	vaultToken     string
	vaultAddresses map[string]bool
	// Static cloud credentials, from a decryption Secret; nil: none.
	aws   awssdk.CredentialsProvider
	gcp   oauth2.TokenSource
	azure azcore.TokenCredential
	// ambient lets the cloud SDKs use their default credential chains
	// when no static credential was given.
	ambient bool
	// httpClient carries every KMS request; nil: each SDK's default.
	httpClient *http.Client
}

// SOPSKeys are the keys and credentials slipway itself is given (flags,
// action inputs): they serve every Kustomization with spec.decryption,
// together with the keys of its spec.decryption.secretRef.
type SOPSKeys struct {
	// Age is the content of an age key file (AGE-SECRET-KEY lines).
	Age string
	// PGP holds armored PGP private keys (one or more blocks). Keys
	// protected by a passphrase are refused, as Flux cannot use them.
	PGP []byte
	// VaultToken is sent to the Vault (or OpenBao) servers of
	// VaultAddresses only: a Vault address in repository content names a
	// host, and a pull request may write any address there.
	VaultToken string
	// VaultAddresses are the Vault servers (scheme://host[:port]) a
	// token may be sent to, from a Secret's sops.vault-token too.
	VaultAddresses []string
	// CloudCredentials lets AWS KMS, GCP KMS and Azure Key Vault keys
	// use the SDKs' own default credential chains (environment, shared
	// files, workload identity, instance metadata) when no decryption
	// Secret gives static ones. Off by default: credentials of the
	// runner are used only when asked.
	CloudCredentials bool
	// HTTPClient carries every KMS and Vault request; nil: each SDK's
	// default. Tests route the clouds' hosts to loopback fakes with it.
	HTTPClient *http.Client
}

// NewDecryptor parses age identities (the content of an age key file, any
// number of AGE-SECRET-KEY lines). Empty input gives a Decryptor without keys.
func NewDecryptor(ageKeys string) (*Decryptor, error) {
	return NewSOPSDecryptor(SOPSKeys{Age: ageKeys})
}

// NewSOPSDecryptor returns a Decryptor holding the given keys. Errors name
// the kind of key that could not be read, never its content.
func NewSOPSDecryptor(k SOPSKeys) (*Decryptor, error) {
	d := &Decryptor{vaultToken: strings.TrimSpace(k.VaultToken), ambient: k.CloudCredentials, httpClient: k.HTTPClient,
		vaultAddresses: map[string]bool{}}
	if err := d.importAge(k.Age); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(k.PGP)) > 0 {
		keys, err := parsePGPKeys(k.PGP)
		if err != nil {
			return nil, fmt.Errorf("parsing PGP key: %w", err)
		}
		d.pgp = keys
	}
	for _, a := range k.VaultAddresses {
		o, err := source.ParseOrigin(a)
		if err != nil {
			return nil, fmt.Errorf("an allowed Vault address: %w", err)
		}
		d.vaultAddresses[o.String()] = true
	}
	return d, nil
}

// importAge adds age identities; the parser's message could echo key
// material, so it is kept out.
func (d *Decryptor) importAge(ageKeys string) error {
	var lines []string
	for _, l := range strings.Split(ageKeys, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	var ids sopsage.ParsedIdentities
	if err := ids.Import(strings.Join(lines, "\n")); err != nil {
		return errors.New("parsing age key: not a valid AGE-SECRET-KEY identity")
	}
	d.age = append(slices.Clone(d.age), ids...)
	return nil
}

// NewDecryptorFromFile reads age identities from a file.
func NewDecryptorFromFile(path string) (*Decryptor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading age key file: %w", err)
	}
	return NewDecryptor(string(data))
}

// HasKeys reports whether any key or credential was given.
func (d *Decryptor) HasKeys() bool {
	return d != nil && (len(d.age) > 0 || len(d.pgp) > 0 || d.vaultToken != "" ||
		d.aws != nil || d.gcp != nil || d.azure != nil || d.ambient)
}

// IsEncrypted reports whether an object carries SOPS metadata.
func IsEncrypted(u *unstructured.Unstructured) bool {
	_, ok := u.Object["sops"]
	return ok
}

// Decrypt returns the decrypted object given its YAML. The MAC is verified,
// so a tampered file fails rather than decrypting to something else. YAML,
// not JSON: SOPS hashes values in document order, and a JSON round trip
// sorts keys, which breaks the MAC of any file whose keys are not sorted.
func (d *Decryptor) Decrypt(u *unstructured.Unstructured, data []byte) (out *unstructured.Unstructured, err error) {
	fail := func(err error) error {
		return &DecryptError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Err: err}
	}
	defer func() {
		// Crafted metadata can make sops panic; kustomize-controller
		// recovers too (SopsDecryptWithFormat).
		if r := recover(); r != nil {
			out, err = nil, fail(fmt.Errorf("sops failed on this file: %v", r))
		}
	}()
	if !d.HasKeys() {
		return nil, fail(ErrNoKey)
	}
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, fail(fmt.Errorf("reading SOPS metadata: %w", err))
	}
	key, err := d.dataKey(&tree.Metadata)
	if err != nil {
		return nil, fail(err)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		return nil, fail(errors.New("decrypting values failed (wrong key or corrupted data)"))
	}
	fileMac, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil || fileMac != mac {
		return nil, fail(ErrMACMismatch)
	}
	plain, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fail(err)
	}
	js, err := yaml.YAMLToJSON(plain)
	if err != nil {
		return nil, fail(errors.New("decrypted object is not valid YAML"))
	}
	out = &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(js); err != nil {
		return nil, fail(fmt.Errorf("decrypted object is not valid: %w", err))
	}
	return out, nil
}
