// Package app is the federation-controller-manager command: leader
// election, shared informers, and the table of controllers.
package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apiserver/pkg/server/healthz"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"  // client-go request metrics
	_ "k8s.io/component-base/metrics/prometheus/workqueue" // work queue depth and latency
	"k8s.io/component-base/term"
	"k8s.io/klog/v2"

	fedclientset "github.com/kfederation/client-go/clientset/versioned"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/cmd/federation-controller-manager/app/options"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/placement"
	"github.com/kfederation/federation/pkg/version"
)

func init() {
	utilruntime.Must(logsapi.AddFeatureGates(utilfeature.DefaultMutableFeatureGate))
}

// NewControllerManagerCommand returns the federation-controller-manager command.
func NewControllerManagerCommand(ctx context.Context) *cobra.Command {
	o := options.NewOptions()
	cmd := &cobra.Command{
		Use:   "federation-controller-manager",
		Short: "Mirror federated objects into every Ready member cluster and report back",
		Long: `The federation-controller-manager watches the federation-apiserver. Its
cluster controller probes every registered member cluster; its sync
controllers create, update and delete each federated object in every
selected Ready member and write aggregated status back.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ShowVersion {
				fmt.Fprintln(cmd.OutOrStdout(), version.String("federation-controller-manager"))
				return nil
			}
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments %q: federation-controller-manager takes only flags", args)
			}
			if err := logsapi.ValidateAndApply(o.Logs, utilfeature.DefaultFeatureGate); err != nil {
				return err
			}
			if err := o.Validate(ControllerNames()); err != nil {
				return err
			}
			cliflag.PrintFlags(cmd.Flags())
			return Run(cmd.Context(), o)
		},
	}
	cmd.SetContext(ctx)
	fs := cmd.Flags()
	namedFlagSets := o.Flags(ControllerNames())
	globalflag.AddGlobalFlags(namedFlagSets.FlagSet("global"), cmd.Name(), logs.SkipLoggingConfigurationFlags())
	for _, f := range namedFlagSets.FlagSets {
		fs.AddFlagSet(f)
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, namedFlagSets, cols)
	return cmd
}

func federationConfig(o *options.Options) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if o.Kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("load the federation-apiserver's kubeconfig (--kubeconfig=%q): %w", o.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	cfg.UserAgent = "federation-controller-manager/" + version.Version
	return cfg, nil
}

// builtinKindsConfig is cfg for the typed clients of the built-in kinds,
// in --kube-api-content-type, as kube-controller-manager talks to its
// kube-apiserver. The federation-apiserver serves those kinds in protobuf;
// its own kinds and the dynamic clients stay on cfg's JSON.
func builtinKindsConfig(cfg *rest.Config, o *options.Options) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.ContentType = o.ContentType
	if o.ContentType == runtime.ContentTypeProtobuf {
		out.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
	return out
}

// Run serves the health paths and /metrics over HTTPS, takes the leader
// lease, and runs the enabled controllers until ctx ends.
func Run(ctx context.Context, o *options.Options) error {
	cfg, err := federationConfig(o)
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(builtinKindsConfig(cfg, o))
	if err != nil {
		return err
	}
	// The watchdog exists before leader election starts, so that the
	// health paths check it from the first request.
	var watchdog *leaderelection.HealthzAdaptor
	var checks []healthz.HealthChecker
	if o.LeaderElect {
		watchdog = leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
		checks = append(checks, watchdog)
	}
	serving, err := newSecureServing(o)
	if err != nil {
		return err
	}
	if serving != nil {
		if err := serving.serve(ctx, checks...); err != nil {
			return err
		}
	}
	run := func(ctx context.Context) {
		if err := startControllers(ctx, cfg, o); err != nil {
			klog.ErrorS(err, "Cannot start controllers")
			os.Exit(1)
		}
		<-ctx.Done()
	}
	if !o.LeaderElect {
		run(ctx)
		return nil
	}
	id, err := os.Hostname()
	if err != nil {
		return err
	}
	id = id + "_" + string(uuid.NewUUID())
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.LeaderElectionNS, o.LeaderElectionID,
		kube.CoreV1(), kube.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return fmt.Errorf("create leader election lock: %w", err)
	}
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.LeaseDuration,
		RenewDeadline:   o.RenewDeadline,
		RetryPeriod:     o.RetryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        watchdog,
		Name:            o.LeaderElectionID,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: run,
			OnStoppedLeading: func() {
				if ctx.Err() != nil {
					klog.InfoS("Stopped leading: shutting down")
					return
				}
				// Another replica acts now; stop at once so that two never act.
				klog.ErrorS(nil, "Lost the leader lease; exiting so that only the new leader acts")
				os.Exit(1)
			},
			OnNewLeader: func(identity string) {
				if identity != id {
					klog.InfoS("Another replica is the leader", "leader", identity)
				}
			},
		},
	})
	return nil
}

// withoutWarnings is cfg for a client that walks every resource of every
// group the federation-apiserver serves, as the namespace controller does
// (the metadata client is its alone): the extensions/v1beta1 kinds are
// served for old manifests, and the deprecation warning each of its lists
// and deletes gets says nothing an administrator can act on. As
// kube-controller-manager does for its generic controllers, such a client
// drops the warnings; every other client still logs them.
func withoutWarnings(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.WarningHandler = rest.NoWarnings{}
	return c
}

func startControllers(ctx context.Context, cfg *rest.Config, o *options.Options) error {
	kube, err := kubernetes.NewForConfig(builtinKindsConfig(cfg, o))
	if err != nil {
		return err
	}
	fed, err := fedclientset.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	meta, err := metadata.NewForConfig(withoutWarnings(cfg))
	if err != nil {
		return err
	}
	clusters := clusterclient.NewRegistry(o.FederationName)
	clusters.QPS, clusters.Burst = o.MemberQPS, o.MemberBurst
	cctx := &controller.Context{
		Config:                  cfg,
		KubeClient:              kube,
		FedClient:               fed,
		DynamicClient:           dyn,
		MetadataClient:          meta,
		KubeInformers:           kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0, kubeinformers.WithTransform(clusterclient.StripManagedFields)),
		FedInformers:            fedinformers.NewSharedInformerFactoryWithOptions(fed, 0, fedinformers.WithTransform(clusterclient.StripManagedFields)),
		DynamicInformers:        dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0),
		Clusters:                clusters,
		FederationName:          o.FederationName,
		ConcurrentSyncs:         o.ConcurrentSyncs,
		ClusterMonitorPeriod:    o.ClusterMonitorPeriod,
		ClusterProbeTimeout:     o.ClusterProbeTimeout,
		ClusterFailureThreshold: o.ClusterFailureThreshold,
		MemberRequestTimeout:    o.MemberRequestTimeout,
	}
	// The planner subscribes to the federated informers, so it is made
	// before they start.
	planner := placement.NewPlanner(ctx, cctx, placement.WithUnschedulableThreshold(o.UnschedulableThreshold))
	cctx.Planner = planner
	go planner.Run(ctx)
	var started []string
	for _, c := range controllers(o) {
		if !o.Enabled(c.name) {
			if c.whenDisabled == nil {
				klog.InfoS("Controller is disabled", "controller", c.name)
				continue
			}
			// The controller's finalizer may be on objects: something
			// must take it off.
			klog.InfoS("Controller is disabled: "+c.disabledNote, "controller", c.name)
			if err := c.whenDisabled(ctx, cctx); err != nil {
				return fmt.Errorf("start %s (disabled): %w", c.name, err)
			}
			continue
		}
		if err := c.start(ctx, cctx); err != nil {
			return fmt.Errorf("start %s: %w", c.name, err)
		}
		started = append(started, c.name)
	}
	cctx.KubeInformers.Start(ctx.Done())
	cctx.FedInformers.Start(ctx.Done())
	cctx.DynamicInformers.Start(ctx.Done())
	klog.InfoS("Started controllers", "controllers", started)
	return nil
}
