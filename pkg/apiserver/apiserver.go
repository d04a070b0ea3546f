// Package apiserver assembles the federation-apiserver: the stock Kubernetes
// kinds users federate, served with kube-apiserver's own strategies, plus the
// federation.k8s.io group, on one generic API server.
package apiserver

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// ExtraConfig is what the federation adds to a generic server's config.
type ExtraConfig struct {
	// EventTTL is how long Events are kept.
	EventTTL time.Duration
}

// Config is the whole configuration of a federation-apiserver.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig
}

// CompletedConfig can only be made by Complete, so a half-filled
// configuration never builds a server.
type CompletedConfig struct {
	*completedConfig
}

// FederationAPIServer is the running server.
type FederationAPIServer struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// Complete fills in the defaults the caller left out.
func (c *Config) Complete() CompletedConfig {
	if c.ExtraConfig.EventTTL == 0 {
		c.ExtraConfig.EventTTL = time.Hour
	}
	return CompletedConfig{&completedConfig{
		GenericConfig: c.GenericConfig.Complete(),
		ExtraConfig:   &c.ExtraConfig,
	}}
}

// New builds the server and installs every API group.
func (c CompletedConfig) New() (*FederationAPIServer, error) {
	s, err := c.GenericConfig.New("federation-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	getter := c.GenericConfig.RESTOptionsGetter
	legacy, err := coreGroup(getter, c.ExtraConfig.EventTTL)
	if err != nil {
		return nil, fmt.Errorf("build core/v1 storage: %w", err)
	}
	if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, legacy); err != nil {
		return nil, fmt.Errorf("install core/v1: %w", err)
	}
	groups, err := namedGroups(getter)
	if err != nil {
		return nil, err
	}
	reviews, err := reviewGroups(c.GenericConfig)
	if err != nil {
		return nil, err
	}
	groups = append(groups, reviews...)
	if err := s.InstallAPIGroups(groups...); err != nil {
		return nil, fmt.Errorf("install API groups: %w", err)
	}
	preferTodaysGroups(s)
	installNoCustomResources(s)
	s.AddPostStartHookOrDie("federation-bootstrap-namespaces", func(hookCtx genericapiserver.PostStartHookContext) error {
		client, err := kubernetes.NewForConfig(hookCtx.LoopbackClientConfig)
		if err != nil {
			return err
		}
		// As kube-apiserver, the federation starts with default,
		// kube-system and kube-public (the members' own are adopted: add-on
		// manifests live in kube-system), and has federation-system for
		// its own objects.
		go ensureNamespaces(hookCtx, client, metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, federationv1beta1.FederationSystemNamespace)
		return nil
	})
	return &FederationAPIServer{GenericAPIServer: s}, nil
}

// ensureNamespaces creates the namespaces that must exist from the first
// start, retrying until it succeeds or the server stops.
func ensureNamespaces(ctx context.Context, client kubernetes.Interface, names ...string) {
	for _, name := range names {
		err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			if err == nil || apierrors.IsAlreadyExists(err) {
				return true, nil
			}
			klog.ErrorS(err, "Cannot create namespace yet; retrying", "namespace", name)
			return false, nil
		})
		if err != nil {
			return
		}
	}
}

// ResourceConfig enables exactly the group versions this server serves.
func ResourceConfig() *serverstorage.ResourceConfig {
	rc := serverstorage.NewResourceConfig()
	rc.EnableVersions(ServedGroupVersions...)
	rc.EnableVersions(OldGroupVersions...)
	return rc
}
