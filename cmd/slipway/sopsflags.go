package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipwayhq/slipway/internal/build"
)

// sopsFlags give SOPS keys and credentials other than age without a
// Kubernetes Secret; a Kustomization's spec.decryption.secretRef Secret,
// when slipway finds it, adds its own (build.Decryptor.WithSecret).
type sopsFlags struct {
	pgpKeyFiles    []string
	vaultTokenFile string
	vaultAddresses []string
	// cloudCredentials lets the AWS, GCP and Azure SDKs use the runner's
	// own credentials: off unless asked for.
	cloudCredentials bool
}

func (s *sopsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&s.pgpKeyFiles, "sops-pgp-key-file", nil, "file of armored PGP private keys (no passphrase) to decrypt SOPS Secrets (repeatable)")
	fl.StringVar(&s.vaultTokenFile, "sops-vault-token-file", "", "file holding a HashiCorp Vault (or OpenBao) token for SOPS keys in Vault transit; sent only to the --sops-vault-address servers")
	fl.StringArrayVar(&s.vaultAddresses, "sops-vault-address", nil, "a Vault server (scheme://host[:port]) the Vault token may be sent to (repeatable); a Vault address in the repository is never trusted by itself")
	fl.BoolVar(&s.cloudCredentials, "sops-cloud-credentials", false, "let SOPS keys in AWS KMS, GCP KMS and Azure Key Vault use the runner's own credentials (the SDKs' default chains: environment, shared files, workload identity, instance metadata) when no decryption Secret gives static ones")
}

// keys reads the files the flags name. Errors name the flag and the file,
// never the content.
func (s *sopsFlags) keys() (build.SOPSKeys, error) {
	k := build.SOPSKeys{VaultAddresses: s.vaultAddresses, CloudCredentials: s.cloudCredentials}
	for _, f := range s.pgpKeyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return k, fmt.Errorf("--sops-pgp-key-file: %w", err)
		}
		k.PGP = append(append(k.PGP, data...), '\n')
	}
	if s.vaultTokenFile != "" {
		data, err := os.ReadFile(s.vaultTokenFile)
		if err != nil {
			return k, fmt.Errorf("--sops-vault-token-file: %w", err)
		}
		k.VaultToken = strings.TrimSpace(string(data))
		if len(s.vaultAddresses) == 0 {
			return k, fmt.Errorf("--sops-vault-token-file needs --sops-vault-address: the servers the token may be sent to")
		}
	}
	return k, nil
}
