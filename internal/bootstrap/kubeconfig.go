package bootstrap

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// deployerKubeconfig returns a kubeconfig that reaches the cluster the
// administrator reached, as the deployer ServiceAccount, trusting ca
// (clusterCA).
func deployerKubeconfig(admin *rest.Config, clusterName string, token, ca []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: ca, InsecureSkipTLSVerify: admin.Insecure && len(ca) == 0, TLSServerName: admin.ServerName}
	cfg.AuthInfos[DeployerName] = &clientcmdapi.AuthInfo{Token: string(token)}
	cfg.Contexts[clusterName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: DeployerName, Namespace: "default"}
	cfg.CurrentContext = clusterName
	return clientcmd.Write(*cfg)
}
