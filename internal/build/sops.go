package build

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
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

// Decryptor decrypts SOPS-encrypted Secrets in memory with age identities,
// as kustomize-controller does. Only age is supported: cloud KMS keys need
// credentials slipway does not hold in CI.
type Decryptor struct {
	identities sopsage.ParsedIdentities
}

// NewDecryptor parses age identities (the content of an age key file, any
// number of AGE-SECRET-KEY lines). Empty input gives a Decryptor without keys.
func NewDecryptor(ageKeys string) (*Decryptor, error) {
	d := &Decryptor{}
	var lines []string
	for _, l := range strings.Split(ageKeys, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return d, nil
	}
	if err := d.identities.Import(strings.Join(lines, "\n")); err != nil {
		// The parser's message could echo key material; keep it out.
		return nil, errors.New("parsing age key: not a valid AGE-SECRET-KEY identity")
	}
	return d, nil
}

// NewDecryptorFromFile reads age identities from a file.
func NewDecryptorFromFile(path string) (*Decryptor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading age key file: %w", err)
	}
	return NewDecryptor(string(data))
}

// HasKeys reports whether any identity was given.
func (d *Decryptor) HasKeys() bool { return d != nil && len(d.identities) > 0 }

// IsEncrypted reports whether an object carries SOPS metadata.
func IsEncrypted(u *unstructured.Unstructured) bool {
	_, ok := u.Object["sops"]
	return ok
}

// Decrypt returns the decrypted object given its YAML. The MAC is verified,
// so a tampered file fails rather than decrypting to something else. YAML,
// not JSON: SOPS hashes values in document order, and a JSON round trip
// sorts keys, which breaks the MAC of any file whose keys are not sorted.
func (d *Decryptor) Decrypt(u *unstructured.Unstructured, data []byte) (*unstructured.Unstructured, error) {
	fail := func(err error) error {
		return &DecryptError{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Err: err}
	}
	if !d.HasKeys() {
		return nil, fail(ErrNoKey)
	}
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, fail(fmt.Errorf("reading SOPS metadata: %w", err))
	}
	key, err := d.dataKey(tree.Metadata)
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
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(js); err != nil {
		return nil, fail(fmt.Errorf("decrypted object is not valid: %w", err))
	}
	return out, nil
}

func (d *Decryptor) dataKey(md sops.Metadata) ([]byte, error) {
	if len(md.KeyGroups) > 1 {
		return nil, errors.New("SOPS files with several key groups (Shamir) are not supported")
	}
	var tried int
	for _, group := range md.KeyGroups {
		for _, k := range group {
			ak, ok := k.(*sopsage.MasterKey)
			if !ok {
				continue
			}
			tried++
			d.identities.ApplyToMasterKey(ak)
			if key, err := ak.Decrypt(); err == nil {
				return key, nil
			}
		}
	}
	if tried == 0 {
		return nil, errors.New("the file has no age recipient; only age keys are supported")
	}
	return nil, errors.New("none of the given age keys can decrypt it")
}
