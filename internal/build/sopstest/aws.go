package sopstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// AWSKMS is AWS KMS's Decrypt in the AWS JSON 1.1 protocol
// (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html):
// POST / with X-Amz-Target: TrentService.Decrypt, a SigV4 signature made
// with the access key it knows, and a body naming the ciphertext blob.
type AWSKMS struct {
	AccessKeyID, SecretAccessKey string
	// Keys maps a ciphertext blob to the data key it holds.
	Keys map[string][]byte
}

const awsJSON = "application/x-amz-json-1.1"

func (f *AWSKMS) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, typ, msg string) {
		writeJSON(w, status, awsJSON, map[string]string{"__type": typ, "message": msg})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "TrentService.Decrypt" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), awsJSON) {
		fail(http.StatusBadRequest, "UnknownOperationException", "not a TrentService.Decrypt request")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(http.StatusBadRequest, "SerializationException", "unreadable body")
		return
	}
	if !f.signatureValid(r, body) {
		fail(http.StatusBadRequest, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
		return
	}
	var req struct {
		CiphertextBlob    []byte
		KeyId             string
		EncryptionContext map[string]string
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.CiphertextBlob) == 0 {
		fail(http.StatusBadRequest, "SerializationException", "CiphertextBlob is required")
		return
	}
	plain, ok := f.Keys[string(req.CiphertextBlob)]
	if !ok {
		fail(http.StatusBadRequest, "InvalidCiphertextException", "")
		return
	}
	writeJSON(w, http.StatusOK, awsJSON, map[string]string{
		"KeyId": req.KeyId, "Plaintext": base64.StdEncoding.EncodeToString(plain), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
}

// signatureValid signs the request again, with the headers it says it
// signed and the secret key the fake knows, and compares the signatures.
func (f *AWSKMS) signatureValid(r *http.Request, body []byte) bool {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return false
	}
	params := map[string]string{}
	for _, p := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[k] = v
	}
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 || scope[0] != f.AccessKeyID || scope[3] != "kms" || scope[4] != "aws4_request" {
		return false
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	again, err := http.NewRequest(r.Method, "https://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	again.ContentLength = int64(len(body))
	for _, h := range strings.Split(params["SignedHeaders"], ";") {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: f.AccessKeyID, SecretAccessKey: f.SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "kms", scope[2], when); err != nil {
		return false
	}
	return again.Header.Get("Authorization") == auth
}
