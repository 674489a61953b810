package bootstrap

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// deployerKubeconfig returns a kubeconfig that reaches the cluster the
// administrator reached, as the deployer ServiceAccount. The CA comes from
// the token Secret (the cluster's own root CA) unless the administrator's
// config pins one.
func deployerKubeconfig(admin *rest.Config, clusterName string, token, caFromSecret []byte) ([]byte, error) {
	ca := admin.CAData
	if len(ca) == 0 && admin.CAFile != "" {
		b, err := os.ReadFile(admin.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the cluster CA %s: %w", admin.CAFile, err)
		}
		ca = b
	}
	if len(ca) == 0 {
		ca = caFromSecret
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: ca, InsecureSkipTLSVerify: admin.Insecure && len(ca) == 0, TLSServerName: admin.ServerName}
	cfg.AuthInfos[DeployerName] = &clientcmdapi.AuthInfo{Token: string(token)}
	cfg.Contexts[clusterName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: DeployerName, Namespace: "default"}
	cfg.CurrentContext = clusterName
	return clientcmd.Write(*cfg)
}
