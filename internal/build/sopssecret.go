package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	gcpkmsapi "cloud.google.com/go/kms/apiv1"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"sigs.k8s.io/yaml"
)

// The keys of a spec.decryption.secretRef Secret, as kustomize-controller
// names them (internal/decryptor/decryptor.go, ImportKeys).
const (
	sopsAgeExt       = ".agekey"
	sopsPGPExt       = ".asc"
	sopsVaultToken   = "sops.vault-token"
	sopsAWSKMS       = "sops.aws-kms"
	sopsAzureKV      = "sops.azure-kv"
	sopsGCPKMS       = "sops.gcp-kms"
	sopsProviderSOPS = "sops"
)

// SecretKeyError is a key of a decryption Secret that could not be read.
// It names the Secret and the key, never the value.
type SecretKeyError struct {
	Secret, Key string
	Err         error
}

func (e *SecretKeyError) Error() string {
	return fmt.Sprintf("decryption Secret %s, key %s: %v", e.Secret, e.Key, e.Err)
}

// Unwrap returns the reason.
func (e *SecretKeyError) Unwrap() error { return e.Err }

// WithSecret returns a Decryptor holding d's keys and those of a
// Kustomization's spec.decryption.secretRef Secret (secret names it as
// namespace/name), read as kustomize-controller's ImportKeys reads it:
// every *.agekey (age identities), every *.asc (armored PGP private keys),
// sops.vault-token, sops.aws-kms (YAML: aws_access_key_id,
// aws_secret_access_key, aws_session_token), sops.azure-kv (JSON or YAML:
// tenantId, clientId, clientSecret or clientCertificate, or the appId,
// tenant, password of `az ad sp create-for-rbac`), sops.gcp-kms (a
// credentials JSON). Other keys are ignored, as Flux does. A static cloud
// credential of the Secret takes precedence over ambient ones.
func (d *Decryptor) WithSecret(secret string, data map[string]string) (*Decryptor, error) {
	out := d.clone()
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := out.importSecretKey(name, []byte(data[name])); err != nil {
			return nil, &SecretKeyError{Secret: secret, Key: name, Err: err}
		}
	}
	return out, nil
}

func (d *Decryptor) clone() *Decryptor {
	if d == nil {
		return &Decryptor{vaultAddresses: map[string]bool{}}
	}
	c := *d
	c.age = slices.Clone(d.age)
	c.pgp = slices.Clone(d.pgp)
	return &c
}

func (d *Decryptor) importSecretKey(name string, value []byte) error {
	switch {
	case filepath.Ext(name) == sopsAgeExt:
		return d.importAge(string(value))
	case filepath.Ext(name) == sopsPGPExt:
		keys, err := parsePGPKeys(value)
		if err != nil {
			return err
		}
		d.pgp = append(d.pgp, keys...)
	case name == sopsVaultToken:
		d.vaultToken = strings.TrimSpace(string(value))
	case name == sopsAWSKMS:
		cp, err := awsStaticCredentials(value)
		if err != nil {
			return err
		}
		d.aws = cp
	case name == sopsAzureKV:
		cred, err := azureCredentialFromConfig(value, d.httpClient)
		if err != nil {
			return err
		}
		d.azure = cred
	case name == sopsGCPKMS:
		ts, err := gcpTokenSource(value, d.httpClient)
		if err != nil {
			return err
		}
		d.gcp = ts
	}
	return nil
}

// awsStaticCredentials reads sops.aws-kms as kustomize-controller's
// internal/sops/awskms/credentials.go does.
func awsStaticCredentials(value []byte) (credentials.StaticCredentialsProvider, error) {
	var c struct {
		AccessKeyID     string `json:"aws_access_key_id"`
		SecretAccessKey string `json:"aws_secret_access_key"`
		SessionToken    string `json:"aws_session_token"`
	}
	if err := yaml.Unmarshal(value, &c); err != nil {
		return credentials.StaticCredentialsProvider{}, errors.New("not a YAML map of aws_access_key_id, aws_secret_access_key, aws_session_token")
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return credentials.StaticCredentialsProvider{}, errors.New("aws_access_key_id and aws_secret_access_key are needed")
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken), nil
}

// gcpTokenSource reads sops.gcp-kms as kustomize-controller does: a
// credentials JSON for the KMS scopes. Its token endpoint is the one the
// JSON names, as with Google's own libraries. Only the types a key file
// or workload identity federation writes are accepted: Google's library
// warns that a configuration from elsewhere may read local files or URLs.
func gcpTokenSource(value []byte, hc *http.Client) (oauth2.TokenSource, error) {
	ctx := context.Background()
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	data := []byte(strings.Trim(string(value), "\n"))
	var head struct {
		Type google.CredentialsType `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, errors.New("not a Google credentials JSON")
	}
	switch head.Type {
	case google.ServiceAccount, google.AuthorizedUser, google.ExternalAccount, google.ImpersonatedServiceAccount:
	default:
		return nil, fmt.Errorf("credentials of type %q are not accepted (service_account, authorized_user, external_account, impersonated_service_account)", head.Type)
	}
	creds, err := google.CredentialsFromJSONWithType(ctx, data, head.Type, gcpkmsapi.DefaultAuthScopes()...)
	if err != nil {
		return nil, errors.New("not a valid Google credentials JSON")
	}
	return creds.TokenSource, nil
}

// aadConfig is sops.azure-kv, with the fields kustomize-controller's
// internal/sops/azkv/config.go reads.
type aadConfig struct {
	TenantID                   string `json:"tenantId,omitempty"`
	ClientID                   string `json:"clientId,omitempty"`
	ClientSecret               string `json:"clientSecret,omitempty"`
	ClientCertificate          string `json:"clientCertificate,omitempty"`
	ClientCertificatePassword  string `json:"clientCertificatePassword,omitempty"`
	ClientCertificateSendChain bool   `json:"clientCertificateSendChain,omitempty"`
	AuthorityHost              string `json:"authorityHost,omitempty"`
	// The fields `az ad sp create-for-rbac` prints.
	AppID    string `json:"appId,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	Password string `json:"password,omitempty"`
}

func (c aadConfig) clientOptions(hc *http.Client) azcore.ClientOptions {
	o := azcore.ClientOptions{Cloud: cloud.AzurePublic}
	if c.AuthorityHost != "" {
		o.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
	}
	if hc != nil {
		o.Transport = hc
	}
	return o
}

// azureCredentialFromConfig picks the credential in kustomize-controller's
// order: client secret, client certificate, the az CLI's service principal
// fields, then a managed identity by client ID.
func azureCredentialFromConfig(value []byte, hc *http.Client) (azcore.TokenCredential, error) {
	var c aadConfig
	if err := yaml.Unmarshal(value, &c); err != nil {
		return nil, errors.New("not a JSON or YAML map")
	}
	opts := c.clientOptions(hc)
	switch {
	case c.TenantID != "" && c.ClientID != "" && c.ClientSecret != "":
		return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	case c.TenantID != "" && c.ClientID != "" && c.ClientCertificate != "":
		certs, key, err := azidentity.ParseCertificates([]byte(c.ClientCertificate), []byte(c.ClientCertificatePassword))
		if err != nil {
			return nil, errors.New("clientCertificate cannot be read")
		}
		return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, SendCertificateChain: c.ClientCertificateSendChain})
	case c.Tenant != "" && c.AppID != "" && c.Password != "":
		return azidentity.NewClientSecretCredential(c.Tenant, c.AppID, c.Password, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	case c.ClientID != "":
		return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ClientID(c.ClientID)})
	}
	return nil, errors.New("needs clientId, tenantId and clientSecret (or clientCertificate), or appId, tenant and password")
}

// defaultAzureCredential is the Azure SDK's own chain, used only when the
// runner's cloud credentials were asked for.
func defaultAzureCredential(hc *http.Client) (azcore.TokenCredential, error) {
	var o azidentity.DefaultAzureCredentialOptions
	if hc != nil {
		o.ClientOptions.Transport = hc
	}
	return azidentity.NewDefaultAzureCredential(&o)
}
