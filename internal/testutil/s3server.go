package testutil

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Server is an S3-compatible server on loopback (gofakes3, in memory)
// that checks AWS Signature V4 against one key pair, as a real endpoint
// does: gofakes3 alone accepts any signature.
type S3Server struct {
	// Endpoint is host:port, as a Bucket's spec.endpoint.
	Endpoint             string
	AccessKey, SecretKey string
	// Requests counts the requests served (signed correctly or not).
	Requests atomic.Int64
}

// StartS3Server starts a server that accepts requests signed with
// accessKey and secretKey only.
func StartS3Server(t *testing.T, accessKey, secretKey string) *S3Server {
	t.Helper()
	s := &S3Server{AccessKey: accessKey, SecretKey: secretKey}
	faker := gofakes3.New(s3mem.New())
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		if code := s.verify(r); code != "" {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>access denied by the test server</Message></Error>", code)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	return s
}

// Upload creates bucket and puts every file under dir at its relative path.
func (s *S3Server) Upload(t *testing.T, bucket, dir string) {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		_, err = c.PutObject(ctx, bucket, filepath.ToSlash(rel), f, st.Size(), minio.PutObjectOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Put stores one object under any key, including keys no file tree can
// hold ("a/../../x").
func (s *S3Server) Put(t *testing.T, bucket, key, body string) {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// verify recomputes the request's V4 signature with the server's secret;
// it returns the S3 error code of a refused request, "" when accepted.
func (s *S3Server) verify(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "AccessDenied"
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[0] != s.AccessKey {
		return "InvalidAccessKeyId"
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canon strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		fmt.Fprintf(&canon, "%s:%s\n", h, strings.Join(strings.Fields(v), " "))
	}
	query := strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20")
	req := strings.Join([]string{r.Method, s3utils.EncodePath(r.URL.Path), query, canon.String(),
		fields["SignedHeaders"], r.Header.Get("X-Amz-Content-Sha256")}, "\n")
	scope := strings.Join(cred[1:], "/")
	sum := sha256.Sum256([]byte(req))
	toSign := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + s.SecretKey)
	for _, p := range cred[1:] {
		key = hmacSHA256(key, p)
	}
	if !hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, toSign))), []byte(fields["Signature"])) {
		return "SignatureDoesNotMatch"
	}
	return ""
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
