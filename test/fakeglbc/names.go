package fakeglbc

import (
	"fmt"
	"strings"
)

// maxNameLen is the length GLBC cuts its names at; it then appends
// truncatedSuffix, because a Compute name may not end with '-' and is at
// most 63 characters long.
const (
	maxNameLen      = 62
	truncatedSuffix = "0"
	// uidDelimiter separates a name from the cluster's ingress UID, so that
	// the UID can be told apart from a namespace or name containing '-'.
	uidDelimiter = "--"
)

// Namer derives GLBC's Compute resource names from a cluster's ingress UID
// and firewall suffix. Members whose ConfigMaps kube-system/ingress-uid
// hold the same UID compute the same names, which is how they share one
// global load balancer.
type Namer struct {
	// UID is the ConfigMap's "uid": the suffix of every load balancer name.
	UID string
	// FirewallSuffix is the ConfigMap's "provider-uid", or the UID when the
	// ConfigMap has none; it names the member's L7 firewall rule.
	FirewallSuffix string
}

// truncate shortens name as GLBC does: past maxNameLen characters it keeps
// the first maxNameLen and appends truncatedSuffix.
func truncate(name string) string {
	if len(name) > maxNameLen {
		return name[:maxNameLen] + truncatedSuffix
	}
	return name
}

// withUID appends the UID to name; a cluster without a UID gets bare names.
func (n Namer) withUID(name string) string {
	if n.UID == "" {
		return truncate(name)
	}
	return truncate(name + uidDelimiter + n.UID)
}

// lb names the load balancer of the Ingress namespace/name: every frontend
// resource of that Ingress carries it after a kind prefix.
func (n Namer) lb(prefix, namespace, name string) string {
	return n.withUID(prefix + "-" + namespace + "-" + name)
}

// InstanceGroup is the name of the member's unmanaged instance group, one
// per zone. Members in the same zone with the same UID share it.
func (n Namer) InstanceGroup() string { return n.withUID("k8s-ig") }

// BackendService is the name of the backend service for a node port, shared
// by every Ingress, in every member with this UID, that routes to the port.
func (n Namer) BackendService(nodePort int32) string {
	return n.withUID(fmt.Sprintf("k8s-be-%d", nodePort))
}

// HealthCheck is the name of the HTTP health check of a node port's backend
// service; GLBC gives both the same name.
func (n Namer) HealthCheck(nodePort int32) string { return n.BackendService(nodePort) }

// URLMap is the name of the URL map of the Ingress namespace/name.
func (n Namer) URLMap(namespace, name string) string { return n.lb("k8s-um", namespace, name) }

// TargetHTTPProxy is the name of the target HTTP proxy of the Ingress
// namespace/name.
func (n Namer) TargetHTTPProxy(namespace, name string) string {
	return n.lb("k8s-tp", namespace, name)
}

// ForwardingRule is the name of the global HTTP forwarding rule (port 80)
// of the Ingress namespace/name.
func (n Namer) ForwardingRule(namespace, name string) string {
	return n.lb("k8s-fw", namespace, name)
}

// Firewall is the name of the member's L7 firewall rule, which opens the
// node ports to Google's load balancers and health checkers.
func (n Namer) Firewall() string {
	if n.FirewallSuffix == "" {
		return "k8s-fw-l7"
	}
	return truncate("k8s-fw-l7" + uidDelimiter + n.FirewallSuffix)
}

// InstanceName is the name of the fake VM standing for a member's Node. The
// cluster name is part of it because kwok members tend to name their nodes
// alike and all members share one fake project. The result is a valid
// Compute name: lower case letters, digits and '-', starting with a letter,
// at most 63 characters.
func InstanceName(cluster, node string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(cluster + "-" + node) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := b.String()
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		name = "n" + name
	}
	return strings.TrimRight(truncate(name), "-")
}
