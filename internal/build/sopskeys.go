package build

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/getsops/sops/v3"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/hcvault"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/kms"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/slipwayhq/slipway/internal/source"
)

// kmsTimeout bounds the key service calls of one file: sops itself calls
// its key services without a deadline.
const kmsTimeout = 60 * time.Second

// KeysError says, key by key, why none of a file's SOPS keys gave its data
// key. It names keys (recipient, fingerprint, ARN, resource, address),
// which are public, and never carries key material or credentials.
type KeysError struct {
	Keys []KeyAttempt
}

// KeyAttempt is one SOPS key of a file and why it did not decrypt.
type KeyAttempt struct {
	// Key is the key's kind and public name: "age age1…", "AWS KMS arn:…".
	Key string
	Err error
}

func (e *KeysError) Error() string {
	if len(e.Keys) == 0 {
		return "none of the given keys can decrypt it"
	}
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		// SDK errors span lines (Azure quotes whole answers): one line
		// per finding.
		parts[i] = k.Key + ": " + strings.Join(strings.Fields(k.Err.Error()), " ")
	}
	return "none of the given keys can decrypt it (" + strings.Join(parts, "; ") + ")"
}

// Unwrap returns the errors of every key.
func (e *KeysError) Unwrap() []error {
	errs := make([]error, len(e.Keys))
	for i, k := range e.Keys {
		errs[i] = k.Err
	}
	return errs
}

// ErrNoCredential means a key's backend needs a credential slipway was not
// given: nothing was sent.
var ErrNoCredential = errors.New("no credential given")

// ErrAddressNotAllowed means a key names a server its credential may not be
// sent to: nothing was sent.
var ErrAddressNotAllowed = errors.New("address not allowed")

// dataKey asks SOPS for the file's data key through its own key service
// protocol: sops walks the key groups (Shamir thresholds included) in its
// decryption order and calls keyServer for each key, which applies this
// Decryptor's keys and credentials. Nothing falls back to sops's default
// key service, which would use the runner's own keyrings and credentials.
func (d *Decryptor) dataKey(md *sops.Metadata) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kmsTimeout)
	defer cancel()
	srv := &keyServer{d: d, ctx: ctx}
	client := keyservice.NewCustomLocalClient(srv)
	key, err := md.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{client}, sops.DefaultDecryptionOrder)
	if err == nil {
		return key, nil
	}
	if len(srv.failed) == 0 {
		return nil, fmt.Errorf("getting the data key: %w", err)
	}
	return nil, &KeysError{Keys: srv.failed}
}

// keyServer is a sops keyservice.KeyServiceServer for one file, modelled
// on kustomize-controller's internal/sops/keyservice/server.go: it builds
// each backend's sops MasterKey with the Decryptor's credentials. Unlike
// it, a key type without a credential fails here rather than going to
// sops's default server (environment, home directory, metadata service).
type keyServer struct {
	d      *Decryptor
	ctx    context.Context
	failed []KeyAttempt
}

// Encrypt is never needed: slipway only decrypts.
func (s *keyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("slipway does not encrypt")
}

// Decrypt returns the data key one master key holds.
func (s *keyServer) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	name, plain, err := s.decrypt(req.Key, req.Ciphertext)
	if err != nil {
		s.failed = append(s.failed, KeyAttempt{Key: name, Err: err})
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plain}, nil
}

func (s *keyServer) decrypt(key *keyservice.Key, ct []byte) (string, []byte, error) {
	switch k := key.GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		p, err := s.age(k.AgeKey, ct)
		return "age " + k.AgeKey.Recipient, p, err
	case *keyservice.Key_PgpKey:
		p, err := s.pgp(k.PgpKey, ct)
		return "PGP " + k.PgpKey.Fingerprint, p, err
	case *keyservice.Key_KmsKey:
		p, err := s.awsKMS(k.KmsKey, ct)
		return "AWS KMS " + k.KmsKey.Arn, p, err
	case *keyservice.Key_GcpKmsKey:
		p, err := s.gcpKMS(k.GcpKmsKey, ct)
		return "GCP KMS " + k.GcpKmsKey.ResourceId, p, err
	case *keyservice.Key_AzureKeyvaultKey:
		k2 := k.AzureKeyvaultKey
		p, err := s.azureKV(k2, ct)
		return "Azure Key Vault " + strings.TrimSuffix(k2.VaultUrl, "/") + "/keys/" + k2.Name + "/" + k2.Version, p, err
	case *keyservice.Key_VaultKey:
		k2 := k.VaultKey
		p, err := s.vault(k2, ct)
		return "Vault " + strings.TrimSuffix(k2.VaultAddress, "/") + "/v1/" + k2.EnginePath + "/keys/" + k2.KeyName, p, err
	default:
		// Huawei Cloud KMS and whatever sops adds: Flux does not
		// support them either.
		return fmt.Sprintf("%T", k), nil, errors.New("a key type Flux does not support")
	}
}

func (s *keyServer) age(k *keyservice.AgeKey, ct []byte) ([]byte, error) {
	if len(s.d.age) == 0 {
		// sops would read SOPS_AGE_KEY and ~/.config/sops/age itself.
		return nil, fmt.Errorf("%w: no age key", ErrNoCredential)
	}
	mk := &sopsage.MasterKey{Recipient: k.Recipient, EncryptedKey: string(ct)}
	s.d.age.ApplyToMasterKey(mk)
	p, err := mk.Decrypt()
	if err != nil {
		return nil, errors.New("no given age identity matches")
	}
	return p, nil
}

// awsARN is a KMS key or alias ARN whose region is a plain region name:
// the region becomes part of the host name the SDK connects to
// (kms.REGION.amazonaws.com), so nothing else may pass.
var awsARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_+=.@-]+$`)

func (s *keyServer) awsKMS(k *keyservice.KmsKey, ct []byte) ([]byte, error) {
	if !awsARN.MatchString(k.Arn) {
		return nil, errors.New("not an AWS KMS key ARN")
	}
	if s.d.aws == nil && !s.d.ambient {
		return nil, fmt.Errorf("%w: give sops.aws-kms in the decryption Secret, or --sops-cloud-credentials", ErrNoCredential)
	}
	ectx := make(map[string]*string, len(k.Context))
	for key, v := range k.Context {
		ectx[key] = &v
	}
	// The file's aws_profile is left out: it would pick a profile of the
	// runner's shared configuration, which can run credential_process.
	mk := &kms.MasterKey{Arn: k.Arn, Role: k.Role, EncryptionContext: ectx, EncryptedKey: string(ct)}
	if s.d.aws != nil {
		kms.NewCredentialsProvider(s.d.aws).ApplyToMasterKey(mk)
	}
	if s.d.httpClient != nil {
		kms.NewHTTPClient(s.d.httpClient).ApplyToMasterKey(mk)
	}
	return mk.DecryptContext(s.ctx)
}

// gcpResource is sops's own check of a GCP KMS key name; the host is
// Google's whatever the name says.
var gcpResource = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)

func (s *keyServer) gcpKMS(k *keyservice.GcpKmsKey, ct []byte) ([]byte, error) {
	if !gcpResource.MatchString(k.ResourceId) {
		return nil, errors.New("not a GCP KMS key name")
	}
	if s.d.gcp == nil && !s.d.ambient {
		return nil, fmt.Errorf("%w: give sops.gcp-kms in the decryption Secret, or --sops-cloud-credentials", ErrNoCredential)
	}
	mk := &gcpkms.MasterKey{ResourceID: k.ResourceId, EncryptedKey: string(ct)}
	// REST rather than gRPC: one transport for every backend, and the
	// one an HTTP client can carry.
	gcpkms.UseRESTClient{}.ApplyToMasterKey(mk)
	switch {
	case s.d.httpClient != nil:
		// option.WithHTTPClient replaces the client's authentication,
		// so the bearer token is added here.
		hc := s.d.httpClient
		if s.d.gcp != nil {
			hc = &http.Client{Transport: &oauth2.Transport{Source: s.d.gcp, Base: transportOf(hc)}, Timeout: hc.Timeout}
		}
		gcpkms.ClientOptions{option.WithHTTPClient(hc)}.ApplyToMasterKey(mk)
	case s.d.gcp != nil:
		gcpkms.NewTokenSource(s.d.gcp).ApplyToMasterKey(mk)
	}
	return mk.DecryptContext(s.ctx)
}

func transportOf(hc *http.Client) http.RoundTripper {
	if hc.Transport != nil {
		return hc.Transport
	}
	return http.DefaultTransport
}

// azureVaultSuffixes are the DNS zones of Azure Key Vault and Managed HSM
// in Azure's clouds: the vault URL of a key is written in the repository,
// and the token goes to that host.
var azureVaultSuffixes = []string{
	".vault.azure.net", ".managedhsm.azure.net",
	".vault.azure.cn", ".managedhsm.azure.cn",
	".vault.usgovcloudapi.net", ".managedhsm.usgovcloudapi.net",
	".vault.microsoftazure.de",
}

func azureVaultAllowed(vaultURL string) bool {
	o, err := source.ParseOrigin(vaultURL)
	if err != nil || o.Scheme != "https" || o.Port != "443" {
		return false
	}
	for _, sfx := range azureVaultSuffixes {
		if strings.HasSuffix(o.Host, sfx) && len(o.Host) > len(sfx) {
			return true
		}
	}
	return false
}

func (s *keyServer) azureKV(k *keyservice.AzureKeyVaultKey, ct []byte) ([]byte, error) {
	if !azureVaultAllowed(k.VaultUrl) {
		return nil, fmt.Errorf("%w: %s is not an Azure Key Vault host (https, *.vault.azure.net and Azure's other clouds)", ErrAddressNotAllowed, k.VaultUrl)
	}
	cred := s.d.azure
	if cred == nil && !s.d.ambient {
		return nil, fmt.Errorf("%w: give sops.azure-kv in the decryption Secret, or --sops-cloud-credentials", ErrNoCredential)
	}
	if cred == nil {
		var err error
		if cred, err = defaultAzureCredential(s.d.httpClient); err != nil {
			return nil, fmt.Errorf("the default Azure credential: %w", err)
		}
	}
	mk := &azkv.MasterKey{VaultURL: k.VaultUrl, Name: k.Name, Version: k.Version, EncryptedKey: string(ct)}
	azkv.NewTokenCredential(cred).ApplyToMasterKey(mk)
	if s.d.httpClient != nil {
		azkv.NewClientOptions(&azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: s.d.httpClient}}).ApplyToMasterKey(mk)
	}
	return mk.DecryptContext(s.ctx)
}

func (s *keyServer) vault(k *keyservice.VaultKey, ct []byte) ([]byte, error) {
	o, err := source.ParseOrigin(k.VaultAddress)
	if err != nil {
		return nil, fmt.Errorf("the key's Vault address: %w", err)
	}
	if !s.d.vaultAddresses[o.String()] {
		return nil, fmt.Errorf("%w: the Vault token goes only to the addresses given with --sops-vault-address (action input sops-vault-addresses), not to %s", ErrAddressNotAllowed, o)
	}
	if s.d.vaultToken == "" {
		// sops would read VAULT_TOKEN and ~/.vault-token itself.
		return nil, fmt.Errorf("%w: give sops.vault-token in the decryption Secret, or --sops-vault-token-file", ErrNoCredential)
	}
	mk := &hcvault.MasterKey{VaultAddress: k.VaultAddress, EnginePath: k.EnginePath, KeyName: k.KeyName, EncryptedKey: string(ct)}
	hcvault.Token(s.d.vaultToken).ApplyToMasterKey(mk)
	if s.d.httpClient != nil {
		hcvault.NewHTTPClient(s.d.httpClient).ApplyToMasterKey(mk)
	}
	return mk.DecryptContext(s.ctx)
}
