// Package controller holds what every federation controller shares: the
// clients and informers of the federation-apiserver, the member cluster
// registry, and the settings from the command line.
package controller

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	fedclientset "github.com/kfederation/client-go/clientset/versioned"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// Context is handed to every controller's start function.
type Context struct {
	// Config reaches the federation-apiserver.
	Config *rest.Config

	KubeClient    kubernetes.Interface
	FedClient     fedclientset.Interface
	DynamicClient dynamic.Interface
	// MetadataClient drops the server's deprecation warnings: it serves
	// the namespace controller, which walks every group.
	MetadataClient metadata.Interface

	KubeInformers    kubeinformers.SharedInformerFactory
	FedInformers     fedinformers.SharedInformerFactory
	DynamicInformers dynamicinformer.DynamicSharedInformerFactory

	// Clusters holds member clients; the cluster controller fills it.
	Clusters *clusterclient.Registry

	// Planner splits replicas over clusters; nil splits them evenly.
	Planner ReplicaPlanner

	// Gates hold objects of a federated kind back from member clusters
	// until another controller has prepared them (the Ingress load
	// balancer controller, for one), keyed by the adapter's name. A
	// controller registers its gate in its start function, before the sync
	// controllers start.
	Gates map[string]MemberGate

	FederationName       string
	ConcurrentSyncs      int
	ClusterMonitorPeriod time.Duration
	ClusterProbeTimeout  time.Duration
	// ClusterFailureThreshold is how many probes in a row of a Ready member
	// must fail before it counts as not Ready.
	ClusterFailureThreshold int
	MemberRequestTimeout    time.Duration

	eventsOnce sync.Once
	events     record.EventBroadcaster
}

// Recorder returns a recorder of events from component, written to the
// federation-apiserver through one broadcaster the controllers share (made
// on the first call, ending with its ctx): one sink and one correlator for
// the controller manager, not one per controller and federated kind. A
// correlator remembers up to 4,096 recent events in each of its caches,
// whatever their source, so one per kind held that many again per kind.
func (c *Context) Recorder(ctx context.Context, scheme *runtime.Scheme, component string) record.EventRecorder {
	c.eventsOnce.Do(func() {
		c.events = record.NewBroadcaster(record.WithContext(ctx))
		c.events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.KubeClient.CoreV1().Events("")})
	})
	return c.events.NewRecorder(scheme, corev1.EventSource{Component: component})
}

// ReplicaPlanner decides how many replicas of a federated ReplicaSet,
// Deployment or Job each selected cluster runs.
type ReplicaPlanner interface {
	// Plan splits total over clusters (the selected Ready clusters,
	// sorted by name). current holds the replicas each cluster's copy asks
	// for now; a cluster without a copy is absent. A cluster missing from
	// the result gets 0.
	Plan(fed *unstructured.Unstructured, total int64, clusters []string, current map[string]int64) (map[string]int64, error)
}

// ReplicaPlannerNotifier is a ReplicaPlanner that learns things about
// clusters by itself (pods that do not fit): it asks for an object of a
// kind to be planned again through the function given to OnChange.
type ReplicaPlannerNotifier interface {
	OnChange(kind string, f func(namespace, name string))
}

// MemberGate holds a federated object back from a member cluster until
// the controller behind the gate has done what must come first: the sync
// neither creates nor updates the member's copy while it is held, and its
// Propagation says why. A copy the member already has is kept.
type MemberGate interface {
	// Hold returns why fed may not reach cluster yet, or "" when it may.
	Hold(fed *unstructured.Unstructured, cluster string) string
	// OnChange registers f, which the gate calls with an object whose
	// hold may have lifted, so that the sync takes it up again.
	OnChange(f func(namespace, name string))
}

// RegisterGate installs g as the gate of the federated kind named adapter.
func (c *Context) RegisterGate(adapter string, g MemberGate) {
	if c.Gates == nil {
		c.Gates = map[string]MemberGate{}
	}
	c.Gates[adapter] = g
}
