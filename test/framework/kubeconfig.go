package framework

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Endpoint is an API server and the credentials of its admin.
type Endpoint struct {
	// Context is the kubeconfig context name.
	Context  string
	Server   string
	CAFile   string
	CertFile string
	KeyFile  string
}

// RESTConfig is a client config for the endpoint's admin.
func (e Endpoint) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            e.Server,
		TLSClientConfig: rest.TLSClientConfig{CAFile: e.CAFile, CertFile: e.CertFile, KeyFile: e.KeyFile},
		QPS:             200,
		Burst:           400,
	}
}

// WriteKubeconfig writes one kubeconfig with a context per endpoint, the
// first one current.
func WriteKubeconfig(path string, endpoints ...Endpoint) error {
	cfg := clientcmdapi.NewConfig()
	for _, e := range endpoints {
		cfg.Clusters[e.Context] = &clientcmdapi.Cluster{Server: e.Server, CertificateAuthority: e.CAFile}
		cfg.AuthInfos[e.Context+"-admin"] = &clientcmdapi.AuthInfo{ClientCertificate: e.CertFile, ClientKey: e.KeyFile}
		cfg.Contexts[e.Context] = &clientcmdapi.Context{Cluster: e.Context, AuthInfo: e.Context + "-admin"}
	}
	if len(endpoints) > 0 {
		cfg.CurrentContext = endpoints[0].Context
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

func loadKubeconfig(path string) (*clientcmdapi.Config, error) {
	return clientcmd.LoadFromFile(path)
}

func writeKubeconfigBytes(cfg *clientcmdapi.Config) ([]byte, error) {
	return clientcmd.Write(*cfg)
}
