// Package app is the federation-apiserver command: flags in, running server out.
package app

import (
	"context"
	"fmt"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/term"
	"k8s.io/klog/v2"
	openapicommon "k8s.io/kube-openapi/pkg/common"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	kubeopenapi "k8s.io/kubernetes/pkg/generated/openapi"

	"github.com/kfederation/federation/cmd/federation-apiserver/app/options"
	"github.com/kfederation/federation/pkg/apiserver"
	"github.com/kfederation/federation/pkg/embeddedetcd"
	federationopenapi "github.com/kfederation/federation/pkg/generated/openapi"
	"github.com/kfederation/federation/pkg/version"
)

func init() {
	utilruntime.Must(logsapi.AddFeatureGates(utilfeature.DefaultMutableFeatureGate))
}

// NewAPIServerCommand returns the federation-apiserver command.
func NewAPIServerCommand(ctx context.Context) *cobra.Command {
	s := options.NewServerRunOptions()
	cmd := &cobra.Command{
		Use:   "federation-apiserver",
		Short: "Serve the federation's API: the Kubernetes kinds users federate, and Clusters",
		Long: `The federation-apiserver stores federated objects (Namespaces, Services,
Secrets, ConfigMaps, Events, ReplicaSets, Deployments, DaemonSets, Jobs,
Ingresses, IngressClasses) and the Clusters they are spread over, in its
own etcd. It speaks the Kubernetes API exactly as kube-apiserver does, so
kubectl and client-go work unchanged. Without --etcd-servers it runs an
embedded etcd.`,
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return compatibility.DefaultComponentGlobalsRegistry.Set()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if s.ShowVersion {
				fmt.Fprintln(cmd.OutOrStdout(), version.String("federation-apiserver"))
				return nil
			}
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q: federation-apiserver takes only flags", args)
			}
			if err := logsapi.ValidateAndApply(s.Logs, utilfeature.DefaultFeatureGate); err != nil {
				return err
			}
			cliflag.PrintFlags(cmd.Flags())
			if err := s.Complete(); err != nil {
				return err
			}
			if err := s.Validate(); err != nil {
				return err
			}
			return Run(cmd.Context(), s)
		},
	}
	cmd.SetContext(ctx)

	fs := cmd.Flags()
	namedFlagSets := s.Flags()
	compatibility.DefaultComponentGlobalsRegistry.AddFlags(namedFlagSets.FlagSet("global"))
	globalflag.AddGlobalFlags(namedFlagSets.FlagSet("global"), cmd.Name(), logs.SkipLoggingConfigurationFlags())
	for _, f := range namedFlagSets.FlagSets {
		fs.AddFlagSet(f)
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, namedFlagSets, cols)
	return cmd
}

// Run starts the embedded etcd if asked to, then serves until ctx ends.
func Run(ctx context.Context, s *options.ServerRunOptions) error {
	if s.UsesEmbeddedEtcd() {
		etcd, err := embeddedetcd.Start(ctx, s.EmbeddedEtcdDataDir, s.EmbeddedEtcdSocket)
		if err != nil {
			s.EmbeddedEtcdSocket.Remove()
			return err
		}
		// Stop etcd only after the API server has drained its requests.
		defer etcd.Stop()
	}
	config, err := NewConfig(s)
	if err != nil {
		return err
	}
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	klog.InfoS("Serving the federation API", "address", s.SecureServing.BindAddress.String(), "port", s.SecureServing.BindPort)
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// openAPIDefinitions are kube-apiserver's definitions of the stock kinds plus
// the federation's own.
func openAPIDefinitions(ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
	defs := kubeopenapi.GetOpenAPIDefinitions(ref)
	for k, v := range federationopenapi.GetOpenAPIDefinitions(ref) {
		defs[k] = v
	}
	return defs
}

// NewConfig turns flags into a server configuration.
func NewConfig(s *options.ServerRunOptions) (*apiserver.Config, error) {
	gc := genericapiserver.NewRecommendedConfig(legacyscheme.Codecs)
	gc.EffectiveVersion = compatibility.DefaultComponentGlobalsRegistry.EffectiveVersionFor(basecompatibility.DefaultKubeComponent)
	gc.FeatureGate = utilfeature.DefaultFeatureGate
	gc.MergedResourceConfig = apiserver.ResourceConfig()

	if err := s.GenericServerRunOptions.ApplyTo(&gc.Config); err != nil {
		return nil, err
	}
	if err := s.SecureServing.ApplyTo(&gc.SecureServing, &gc.LoopbackClientConfig); err != nil {
		return nil, err
	}
	gc.LoopbackClientConfig.ContentType = "application/vnd.kubernetes.protobuf"

	namer := openapi.NewDefinitionNamer(legacyscheme.Scheme)
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openAPIDefinitions, namer)
	gc.OpenAPIConfig.Info.Title = "Federation"
	gc.OpenAPIConfig.Info.Version = version.Version
	gc.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openAPIDefinitions, namer)
	gc.OpenAPIV3Config.Info.Title = "Federation"
	gc.OpenAPIV3Config.Info.Version = version.Version

	storageFactory, err := apiserver.NewStorageFactory(s.Etcd.StorageConfig, s.Etcd.DefaultStorageMediaType, gc.EffectiveVersion, gc.MergedResourceConfig)
	if err != nil {
		return nil, err
	}
	if err := s.Etcd.ApplyWithStorageFactoryTo(storageFactory, &gc.Config); err != nil {
		return nil, err
	}
	if err := s.Authentication.ApplyTo(&gc.Authentication, gc.SecureServing, gc.OpenAPIConfig); err != nil {
		return nil, err
	}
	if err := s.Authorization.ApplyTo(&gc.Authorization); err != nil {
		return nil, err
	}
	if err := s.Audit.ApplyTo(&gc.Config); err != nil {
		return nil, err
	}

	client, err := kubernetes.NewForConfig(gc.LoopbackClientConfig)
	if err != nil {
		return nil, fmt.Errorf("create loopback client: %w", err)
	}
	dynamicClient, err := dynamic.NewForConfig(gc.LoopbackClientConfig)
	if err != nil {
		return nil, fmt.Errorf("create loopback client: %w", err)
	}
	gc.ClientConfig = gc.LoopbackClientConfig
	gc.SharedInformerFactory = kubeinformers.NewSharedInformerFactory(client, 0)
	if err := s.Features.ApplyTo(&gc.Config, client, gc.SharedInformerFactory); err != nil {
		return nil, err
	}
	if err := s.Admission.ApplyTo(&gc.Config, gc.SharedInformerFactory, client, dynamicClient, gc.FeatureGate, gc.EffectiveVersion); err != nil {
		return nil, err
	}
	if gc.AdmissionControl != nil {
		gc.AdmissionControl = apiserver.AdmitAsToday(gc.AdmissionControl)
	}
	return &apiserver.Config{
		GenericConfig: gc,
		ExtraConfig:   apiserver.ExtraConfig{EventTTL: s.EventTTL},
	}, nil
}
