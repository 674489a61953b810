package build

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3/keyservice"
	sopspgp "github.com/getsops/sops/v3/pgp"
)

// pgpKeys are PGP private keys, each the binary form of one armored block.
// kustomize-controller imports .asc keys into a GnuPG keyring and lets
// sops run gpg; slipway's image has no gpg, so the keys are written as a
// keyring file that sops's pgp package reads with its OpenPGP library.
type pgpKeys []pgpKey

type pgpKey struct {
	raw []byte
	// fingerprints of the primary key and its subkeys, upper-case hex.
	fingerprints []string
}

const (
	pgpBegin = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
	pgpEnd   = "-----END PGP PRIVATE KEY BLOCK-----"
)

// parsePGPKeys reads one or more armored private key blocks. A key
// protected by a passphrase is refused: nothing could type it (Flux's gpg
// import in batch mode cannot use one either), and sops would ask for it
// on the terminal or a gpg-agent. Errors never quote the input.
func parsePGPKeys(data []byte) (pgpKeys, error) {
	text := string(data)
	var keys pgpKeys
	for {
		i := strings.Index(text, pgpBegin)
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], pgpEnd)
		if j < 0 {
			return nil, errors.New("an armored private key block has no END line")
		}
		block := text[i : i+j+len(pgpEnd)]
		text = text[i+j+len(pgpEnd):]
		k, err := parsePGPBlock(block)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", len(keys)+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no armored PGP private key block")
	}
	return keys, nil
}

func parsePGPBlock(block string) (pgpKey, error) {
	b, err := armor.Decode(strings.NewReader(block))
	if err != nil {
		return pgpKey{}, errors.New("not valid armor")
	}
	raw, err := io.ReadAll(b.Body)
	if err != nil {
		return pgpKey{}, errors.New("not valid armor")
	}
	ring, err := openpgp.ReadKeyRing(bytes.NewReader(raw))
	if err != nil {
		return pgpKey{}, errors.New("not an OpenPGP key")
	}
	k := pgpKey{raw: raw}
	for _, e := range ring {
		if e.PrivateKey == nil {
			return pgpKey{}, errors.New("a public key; the private key is needed")
		}
		if e.PrivateKey.Encrypted {
			return pgpKey{}, errors.New("protected by a passphrase, which cannot be given")
		}
		k.fingerprints = append(k.fingerprints, strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
		for _, sub := range e.Subkeys {
			if sub.PrivateKey != nil && sub.PrivateKey.Encrypted {
				return pgpKey{}, errors.New("a subkey is protected by a passphrase, which cannot be given")
			}
			k.fingerprints = append(k.fingerprints, strings.ToUpper(hex.EncodeToString(sub.PublicKey.Fingerprint)))
		}
	}
	return k, nil
}

// holds reports whether a key of a SOPS file (a fingerprint, or the long
// key ID GnuPG also accepts) is one of these keys.
func (ks pgpKeys) holds(fingerprint string) bool {
	fp := strings.ToUpper(strings.ReplaceAll(strings.TrimSuffix(fingerprint, "!"), " ", ""))
	if len(fp) < 16 {
		return false
	}
	for _, k := range ks {
		for _, f := range k.fingerprints {
			if f == fp || strings.HasSuffix(f, fp) {
				return true
			}
		}
	}
	return false
}

// keyring writes the keys as a binary keyring in a new private directory,
// which the caller removes, next to an empty GnuPG home.
func (ks pgpKeys) keyring() (dir, ring, home string, err error) {
	dir, err = os.MkdirTemp("", "slipway-pgp-")
	if err != nil {
		return "", "", "", err
	}
	home = filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return "", "", "", err
	}
	var buf bytes.Buffer
	for _, k := range ks {
		buf.Write(k.raw)
	}
	ring = filepath.Join(dir, "secring.gpg")
	if err := os.WriteFile(ring, buf.Bytes(), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", "", "", err
	}
	return dir, ring, home, nil
}

// refuseSymmetric refuses an encrypted data key with a passphrase packet:
// the OpenPGP library asks sops for a passphrase when it meets one, and
// sops asks the terminal or a gpg-agent. The file is repository content.
func refuseSymmetric(armored []byte) error {
	b, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		return errors.New("the encrypted data key is not valid armor")
	}
	packets := packet.NewReader(b.Body)
	for {
		p, err := packets.Next()
		if err != nil {
			return errors.New("the encrypted data key is not an OpenPGP message")
		}
		switch p.(type) {
		case *packet.SymmetricKeyEncrypted:
			return errors.New("the data key is encrypted with a passphrase, not a PGP key")
		case *packet.EncryptedKey:
			continue
		default:
			return nil
		}
	}
}

func (s *keyServer) pgp(k *keyservice.PgpKey, ct []byte) ([]byte, error) {
	if len(s.d.pgp) == 0 {
		// sops would use the runner's own GnuPG keyring.
		return nil, fmt.Errorf("%w: no PGP key", ErrNoCredential)
	}
	if !s.d.pgp.holds(k.Fingerprint) {
		return nil, errors.New("not one of the given PGP keys")
	}
	if err := refuseSymmetric(ct); err != nil {
		return nil, err
	}
	dir, ring, home, err := s.d.pgp.keyring()
	if err != nil {
		return nil, fmt.Errorf("writing the PGP keyring: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	mk := sopspgp.NewMasterKeyFromFingerprint(k.Fingerprint)
	// Should OpenPGP fail, sops falls back to the gpg binary: give it the
	// same private, empty home, never the runner's keyring.
	sopspgp.GnuPGHome(home).ApplyToMasterKey(mk)
	sopspgp.SecRing(ring).ApplyToMasterKey(mk)
	mk.EncryptedKey = string(ct)
	return mk.DecryptContext(s.ctx)
}
