package ingresslb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/kfederation/federation/pkg/controller"
)

// Names and annotations shared with GCE's ingress controller (GLBC) in
// every member, which the federation must speak as GLBC does.
const (
	// GlobalStaticIPAnnotation on an Ingress names a reserved global
	// address; GLBC puts the Ingress's forwarding rule on it. The
	// federation writes it on every GCE-class federated Ingress that lacks
	// one, so that every member's load balancer has the same address.
	GlobalStaticIPAnnotation = "kubernetes.io/ingress.global-static-ip-name"
	// IngressClassAnnotation is the Ingress class before IngressClass
	// objects; GCEClass is GLBC's there, GCEController in an
	// IngressClass's spec.controller.
	IngressClassAnnotation = controller.IngressClassAnnotation
	GCEClass               = controller.GCEIngressClass
	GCEController          = controller.GCEIngressController
	// UIDConfigMap in UIDNamespace holds a member's ingress UID under
	// UIDKey, which GLBC names every load balancer resource with, and its
	// firewall rule's suffix under ProviderUIDKey.
	UIDConfigMap   = "ingress-uid"
	UIDNamespace   = "kube-system"
	UIDKey         = "uid"
	ProviderUIDKey = "provider-uid"
	// ClusterUIDAnnotation on a Cluster object is the federation's ingress
	// UID, written once the member's UIDConfigMap holds it: the Ingresses
	// of class gce reach the member only then.
	ClusterUIDAnnotation = "kubernetes.io/ingress.uid"
)

// What the federation shows on a federated Ingress, for kubectl describe.
// Annotations under federation.k8s.io/ never reach the members.
const (
	// AddressAnnotation is the global address and its IP.
	AddressAnnotation = "federation.k8s.io/global-address"
	// FirewallAnnotation is the federation's firewall rule.
	FirewallAnnotation = "federation.k8s.io/firewall-rule"
	// ClustersAnnotation says, per member, whether its backends are in the
	// load balancer.
	ClustersAnnotation = "federation.k8s.io/load-balancer-clusters"
)

// Finalizer holds a deleted federated Ingress until the global address the
// federation reserved for it is released.
const Finalizer = "federation.k8s.io/release-load-balancer"

// L7SourceRanges are where Google's load balancers and their health checks
// come from; the federation's firewall rule lets them reach the node ports.
var L7SourceRanges = []string{"130.211.0.0/22", "35.191.0.0/16"}

// maxNameLength is Compute Engine's limit on a resource name.
const maxNameLength = 63

// resourceName joins parts into a Compute Engine name, which must be at
// most 63 characters: a longer one keeps its start and ends in a hash of
// the whole, so that two long names stay distinct.
func resourceName(parts ...string) string {
	name := ""
	for _, p := range parts {
		name += p
	}
	if len(name) <= maxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:4])
	return name[:maxNameLength-len(h)-1] + "-" + h
}

// AddressName is the global address the federation reserves for the
// federated Ingress namespace/name.
func AddressName(federation, namespace, name string) string {
	return resourceName("k8s-fed-", namespace, "-", name, "--", federation)
}

// FirewallName is the federation's one firewall rule.
func FirewallName(federation string) string {
	return resourceName("k8s-fed-fw-l7--", federation)
}

// BackendServiceName is GLBC's backend service of a node port.
func BackendServiceName(nodePort int32, uid string) string {
	return resourceName(fmt.Sprintf("k8s-be-%d--", nodePort), uid)
}

// InstanceGroupName is GLBC's instance group of a member's nodes in a zone.
func InstanceGroupName(uid string) string { return resourceName("k8s-ig--", uid) }

// ProviderUID is a member's firewall suffix for GLBC: distinct per member,
// so that members' GLBCs stop overwriting each other's firewall rule, and
// stable, so that it changes nothing on a restart.
func ProviderUID(federation, cluster string) string {
	sum := sha256.Sum256([]byte(federation + "/" + cluster))
	return hex.EncodeToString(sum[:8])
}

// ownerNote is the description the federation gives what it creates in the
// cloud: it releases only what carries its own note.
type ownerNote struct {
	Federation string `json:"kubernetes.io/federation"`
	Ingress    string `json:"ingress,omitempty"`
}

func (n ownerNote) String() string {
	b, _ := json.Marshal(n)
	return string(b)
}

// ownedBy says a cloud resource's description is n.
func ownedBy(description string, n ownerNote) bool {
	var got ownerNote
	return json.Unmarshal([]byte(description), &got) == nil && got == n
}
