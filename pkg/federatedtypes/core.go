package federatedtypes

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// systemNamespaces are never propagated: federation-system holds the
// federation's own objects, and kube-node-lease each member's node
// heartbeats. (kube-system and kube-public are adopted like default, so
// that add-ons, which live in kube-system, can be rolled out through the
// federation; none of the three can be deleted through it.)
var systemNamespaces = map[string]bool{
	federationv1beta1.FederationSystemNamespace: true,
	"kube-node-lease": true,
}

// Namespace propagates namespaces. A member's existing namespace of the
// same name (such as default or kube-system) is adopted.
func Namespace() *Adapter {
	return &Adapter{
		Name:       "namespace",
		GVR:        schema.GroupVersionResource{Version: "v1", Resource: "namespaces"},
		Kind:       "Namespace",
		Namespaced: false,
		Fields:     []string{"spec"},
		Skip: func(obj Identity) bool {
			return systemNamespaces[obj.Name]
		},
	}
}

// Secret propagates Secrets, except service account tokens (each member
// issues its own) and the cluster credentials in federation-system.
func Secret() *Adapter {
	return &Adapter{
		Name:       "secret",
		GVR:        schema.GroupVersionResource{Version: "v1", Resource: "secrets"},
		Kind:       "Secret",
		Namespaced: true,
		Fields:     []string{"type", "data", "immutable"},
		Skip: func(obj Identity) bool {
			return inFederationSystem(obj) || obj.SecretType == "kubernetes.io/service-account-token"
		},
	}
}

// ConfigMap propagates ConfigMaps.
func ConfigMap() *Adapter {
	return &Adapter{
		Name:       "configmap",
		GVR:        schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		Kind:       "ConfigMap",
		Namespaced: true,
		Fields:     []string{"data", "binaryData", "immutable"},
		Skip:       inFederationSystem,
	}
}

// Service propagates Services. Each member allocates its own cluster IPs,
// node ports and health-check node port; a node port the user wrote goes
// out as written, because a federated Ingress needs it the same everywhere.
func Service() *Adapter {
	return &Adapter{
		Name:       "service",
		GVR:        schema.GroupVersionResource{Version: "v1", Resource: "services"},
		Kind:       "Service",
		Namespaced: true,
		Fields:     []string{"spec"},
		HasStatus:  true,
		Skip:       inFederationSystem,
		Retain:     retainServiceFields,
		AggregateStatus: func(fed *unstructured.Unstructured, members map[string]*unstructured.Unstructured) map[string]interface{} {
			return map[string]interface{}{"loadBalancer": loadBalancerStatus(members)}
		},
	}
}

func loadBalancerStatus(members map[string]*unstructured.Unstructured) map[string]interface{} {
	lb := map[string]interface{}{}
	if ing := loadBalancerUnion(members); len(ing) > 0 {
		lb["ingress"] = ing
	}
	return lb
}

func retainServiceFields(desired, member *unstructured.Unstructured) {
	spec, _, _ := unstructured.NestedMap(desired.Object, "spec")
	mspec, _, _ := unstructured.NestedMap(member.Object, "spec")
	if spec == nil || mspec == nil {
		return
	}
	for _, f := range []string{"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"} {
		if _, set := spec[f]; !set || isZero(spec[f]) {
			if v, ok := mspec[f]; ok {
				spec[f] = v
			}
		}
	}
	ports, _ := spec["ports"].([]interface{})
	mports, _ := mspec["ports"].([]interface{})
	for i, p := range ports {
		port, ok := p.(map[string]interface{})
		if !ok || !isZero(port["nodePort"]) {
			continue
		}
		for _, mp := range mports {
			mport, ok := mp.(map[string]interface{})
			if ok && samePort(port, mport) && !isZero(mport["nodePort"]) {
				port["nodePort"] = mport["nodePort"]
				ports[i] = port
			}
		}
	}
	_ = unstructured.SetNestedMap(desired.Object, spec, "spec")
}

func samePort(a, b map[string]interface{}) bool {
	return a["port"] == b["port"] && a["protocol"] == b["protocol"] && a["name"] == b["name"]
}

func isZero(v interface{}) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case int64:
		return t == 0
	case float64:
		return t == 0
	case []interface{}:
		return len(t) == 0
	}
	return false
}
