package bootstrap

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// seal encrypts a secret for GitHub's Actions secrets API: a libsodium
// sealed box against the repository's (or environment's) public key, both
// base64 as GitHub exchanges them.
func seal(publicKeyB64 string, plaintext []byte) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(publicKeyB64)
	if err != nil || len(raw) != 32 {
		return "", fmt.Errorf("GitHub returned a malformed public key for secrets")
	}
	var pk [32]byte
	copy(pk[:], raw)
	out, err := box.SealAnonymous(nil, plaintext, &pk, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("encrypting the secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}
