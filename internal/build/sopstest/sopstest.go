// Package sopstest makes SOPS-encrypted files with sops's own Go API and
// serves fakes of the key services SOPS uses (AWS KMS, GCP KMS with its
// OAuth token endpoint, Azure Key Vault with Entra ID, Vault transit), each
// enforcing the request shape its provider documents. It is for tests only:
// nothing in slipway itself imports it.
package sopstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// DataKey returns a new random SOPS data key.
func DataKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// Encrypt encrypts a plain YAML document with dataKey, as `sops encrypt`
// does for Kubernetes Secrets (data and stringData encrypted), recording
// the given master keys, whose EncryptedKey must already hold dataKey.
func Encrypt(t testing.TB, plain string, dataKey []byte, groups ...keys.MasterKey) []byte {
	t.Helper()
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	branches, err := store.LoadPlainFile([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{groups},
		EncryptedRegex: "^(data|stringData)$",
		Version:        "3.13.3",
	}}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		t.Fatal(err)
	}
	tree.Metadata.LastModified = time.Now().UTC()
	tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// PGPKey is a PGP key generated for a test, without a passphrase.
type PGPKey struct {
	Entity *openpgp.Entity
	// Armored is the private key as `gpg --export-secret-keys --armor`
	// writes it: what a Flux decryption Secret's *.asc key holds.
	Armored string
	// Fingerprint is the primary key's, upper-case hex, as .sops.yaml
	// names it.
	Fingerprint string
}

// NewPGPKey generates a key (EdDSA signing, ECDH Curve25519 encryption).
func NewPGPKey(t testing.TB, name string) PGPKey {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.test", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return PGPKey{Entity: e, Armored: buf.String() + "\n", Fingerprint: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}
}

// MasterKey encrypts dataKey to the key with sops's pgp package (its
// OpenPGP path, from a public keyring file).
func (k PGPKey) MasterKey(t testing.TB, dataKey []byte) *pgp.MasterKey {
	t.Helper()
	ring := filepath.Join(t.TempDir(), "pubring.gpg")
	var buf bytes.Buffer
	if err := k.Entity.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ring, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	mk := pgp.NewMasterKeyFromFingerprint(k.Fingerprint)
	pgp.PubRing(ring).ApplyToMasterKey(mk)
	if err := mk.Encrypt(dataKey); err != nil {
		t.Fatal(err)
	}
	return mk
}
