package federatedtypes

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func u(o map[string]interface{}) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: o}
}

func TestServiceKeepsMemberAllocations(t *testing.T) {
	desired := u(map[string]interface{}{"spec": map[string]interface{}{
		"type": "NodePort",
		"ports": []interface{}{
			map[string]interface{}{"name": "http", "port": int64(80), "protocol": "TCP", "nodePort": int64(30080)},
			map[string]interface{}{"name": "admin", "port": int64(9000), "protocol": "TCP"},
		},
	}})
	member := u(map[string]interface{}{"spec": map[string]interface{}{
		"type": "NodePort", "clusterIP": "10.96.0.7", "clusterIPs": []interface{}{"10.96.0.7"},
		"ipFamilies": []interface{}{"IPv4"}, "ipFamilyPolicy": "SingleStack",
		"ports": []interface{}{
			map[string]interface{}{"name": "http", "port": int64(80), "protocol": "TCP", "nodePort": int64(31111)},
			map[string]interface{}{"name": "admin", "port": int64(9000), "protocol": "TCP", "nodePort": int64(32222)},
		},
	}})
	retainServiceFields(desired, member)
	spec := desired.Object["spec"].(map[string]interface{})
	if spec["clusterIP"] != "10.96.0.7" || spec["ipFamilyPolicy"] != "SingleStack" {
		t.Errorf("member's allocations not kept: %v", spec)
	}
	ports := spec["ports"].([]interface{})
	if ports[0].(map[string]interface{})["nodePort"] != int64(30080) {
		t.Errorf("the user's nodePort must go out as written: %v", ports[0])
	}
	if ports[1].(map[string]interface{})["nodePort"] != int64(32222) {
		t.Errorf("the member's allocated nodePort must be kept: %v", ports[1])
	}

	// A clusterIP the user wrote (headless) wins over the member's.
	headless := u(map[string]interface{}{"spec": map[string]interface{}{"clusterIP": "None"}})
	retainServiceFields(headless, member)
	if headless.Object["spec"].(map[string]interface{})["clusterIP"] != "None" {
		t.Error("user's clusterIP overwritten")
	}
}

func TestLoadBalancerUnionIsSortedAndDeduplicated(t *testing.T) {
	lb := func(ips ...string) *unstructured.Unstructured {
		var ing []interface{}
		for _, ip := range ips {
			ing = append(ing, map[string]interface{}{"ip": ip})
		}
		return u(map[string]interface{}{"status": map[string]interface{}{"loadBalancer": map[string]interface{}{"ingress": ing}}})
	}
	got := loadBalancerUnion(map[string]*unstructured.Unstructured{"a": lb("10.0.0.9", "10.0.0.1"), "b": lb("10.0.0.1"), "c": u(map[string]interface{}{})})
	want := []interface{}{map[string]interface{}{"ip": "10.0.0.1"}, map[string]interface{}{"ip": "10.0.0.9"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestStatusSums(t *testing.T) {
	rs := func(replicas, ready int64) *unstructured.Unstructured {
		return u(map[string]interface{}{"status": map[string]interface{}{"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready}})
	}
	got := ReplicaSet().AggregateStatus(nil, map[string]*unstructured.Unstructured{"a": rs(3, 2), "b": rs(2, 2)})
	want := map[string]interface{}{"replicas": int64(5), "readyReplicas": int64(4), "availableReplicas": int64(4)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestMergeConditions(t *testing.T) {
	d := func(status, reason, msg string) *unstructured.Unstructured {
		return u(map[string]interface{}{"status": map[string]interface{}{"conditions": []interface{}{
			map[string]interface{}{"type": "Available", "status": status, "reason": reason, "message": msg, "lastTransitionTime": "2026-01-01T00:00:00Z"},
		}}})
	}
	all := mergeConditions(map[string]*unstructured.Unstructured{"a": d("True", "MinimumReplicasAvailable", "ok"), "b": d("True", "MinimumReplicasAvailable", "ok")})
	if c := all[0].(map[string]interface{}); c["status"] != "True" || c["reason"] != "MinimumReplicasAvailable" {
		t.Errorf("all True: %v", c)
	}
	some := mergeConditions(map[string]*unstructured.Unstructured{"a": d("True", "MinimumReplicasAvailable", "ok"), "b": d("False", "MinimumReplicasUnavailable", "not enough")})
	c := some[0].(map[string]interface{})
	if c["status"] != "False" || c["reason"] != "MinimumReplicasUnavailable" || c["message"] != "cluster b: not enough" {
		t.Errorf("one False: %v", c)
	}
}

func TestJobSelectorIsTheMembersOwn(t *testing.T) {
	a := Job()
	desired := u(map[string]interface{}{"spec": map[string]interface{}{
		"selector":       map[string]interface{}{"matchLabels": map[string]interface{}{"batch.kubernetes.io/controller-uid": "fed"}},
		"manualSelector": false,
		"template": map[string]interface{}{"metadata": map[string]interface{}{"labels": map[string]interface{}{
			"app": "x", "batch.kubernetes.io/controller-uid": "fed", "controller-uid": "fed", "job-name": "x", "batch.kubernetes.io/job-name": "x",
		}}},
	}})
	a.PrepareDesired(desired)
	labels, _, _ := unstructured.NestedStringMap(desired.Object, "spec", "template", "metadata", "labels")
	if !reflect.DeepEqual(labels, map[string]string{"app": "x"}) {
		t.Errorf("generated labels sent: %v", labels)
	}
	if _, ok, _ := unstructured.NestedMap(desired.Object, "spec", "selector"); ok {
		t.Error("selector sent")
	}
	member := u(map[string]interface{}{"spec": map[string]interface{}{
		"selector": map[string]interface{}{"matchLabels": map[string]interface{}{"batch.kubernetes.io/controller-uid": "member"}},
		"template": map[string]interface{}{"metadata": map[string]interface{}{"labels": map[string]interface{}{
			"app": "x", "batch.kubernetes.io/controller-uid": "member",
		}}},
	}})
	a.Retain(desired, member)
	if uid, _, _ := unstructured.NestedString(desired.Object, "spec", "selector", "matchLabels", "batch.kubernetes.io/controller-uid"); uid != "member" {
		t.Errorf("member's selector not kept: %v", desired.Object["spec"])
	}
}

func TestSkips(t *testing.T) {
	secret := func(ns, name, typ string) *unstructured.Unstructured {
		return u(map[string]interface{}{"apiVersion": "v1", "kind": "Secret", "type": typ,
			"metadata": map[string]interface{}{"namespace": ns, "name": name}})
	}
	cases := []struct {
		name    string
		adapter *Adapter
		obj     *unstructured.Unstructured
		skip    bool
	}{
		{"token secret", Secret(), secret("default", "t", "kubernetes.io/service-account-token"), true},
		{"opaque secret", Secret(), secret("default", "s", "Opaque"), false},
		{"credentials", Secret(), secret("federation-system", "us-east1", "Opaque"), true},
		// kube-system is adopted like default, so that add-ons can be
		// rolled out through the federation; node leases are not.
		{"kube-system namespace", Namespace(), u(map[string]interface{}{"kind": "Namespace", "metadata": map[string]interface{}{"name": "kube-system"}}), false},
		{"kube-node-lease namespace", Namespace(), u(map[string]interface{}{"kind": "Namespace", "metadata": map[string]interface{}{"name": "kube-node-lease"}}), true},
		{"federation-system namespace", Namespace(), u(map[string]interface{}{"kind": "Namespace", "metadata": map[string]interface{}{"name": "federation-system"}}), true},
		{"service account in kube-system", ServiceAccount(), u(map[string]interface{}{"kind": "ServiceAccount", "metadata": map[string]interface{}{"namespace": "kube-system", "name": "traefik"}}), false},
		{"role in federation-system", Role(), u(map[string]interface{}{"kind": "Role", "metadata": map[string]interface{}{"namespace": "federation-system", "name": "r"}}), true},
		{"user namespace", Namespace(), u(map[string]interface{}{"kind": "Namespace", "metadata": map[string]interface{}{"name": "shop"}}), false},
		{"configmap in federation-system", ConfigMap(), u(map[string]interface{}{"kind": "ConfigMap", "metadata": map[string]interface{}{"namespace": "federation-system", "name": "c"}}), true},
		{"configmap of a user", ConfigMap(), u(map[string]interface{}{"kind": "ConfigMap", "metadata": map[string]interface{}{"namespace": "shop", "name": "c"}}), false},
		{"service", Service(), u(map[string]interface{}{"kind": "Service", "metadata": map[string]interface{}{"namespace": "shop", "name": "c"}}), false},
		{"ingress class", IngressClass(), u(map[string]interface{}{"kind": "IngressClass", "metadata": map[string]interface{}{"name": "nginx"}}), false},
		// Cluster-scoped: a class named like a system namespace is
		// nobody's namespace.
		{"ingress class named kube-system", IngressClass(), u(map[string]interface{}{"kind": "IngressClass", "metadata": map[string]interface{}{"name": "kube-system"}}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.adapter.Skips(IdentityOf(tc.obj)); got != tc.skip {
				t.Errorf("Skips(%+v) = %v, want %v", IdentityOf(tc.obj), got, tc.skip)
			}
		})
	}
}

// TestAll checks the kinds table as its users rely on it: one controller
// name and one resource per kind, namespaces first (everything else lives
// in one), IngressClasses before the Ingresses that name them, and the
// scope of each kind as Kubernetes has it.
func TestAll(t *testing.T) {
	clusterScoped := map[string]bool{"Namespace": true, "IngressClass": true, "ClusterRole": true, "ClusterRoleBinding": true}
	position := map[string]int{}
	names := map[string]bool{}
	resources := map[string]bool{}
	for i, a := range All() {
		if names[a.Name] || resources[a.GVR.String()] {
			t.Errorf("%s: name %q or resource %s listed twice", a.Kind, a.Name, a.GVR)
		}
		names[a.Name], resources[a.GVR.String()] = true, true
		position[a.Kind] = i
		if a.Namespaced == clusterScoped[a.Kind] {
			t.Errorf("%s: Namespaced = %v, want %v", a.Kind, a.Namespaced, !clusterScoped[a.Kind])
		}
		if len(a.Fields) == 0 {
			t.Errorf("%s: no Fields: members would get only metadata", a.Kind)
		}
		if a.HasStatus != (a.AggregateStatus != nil) {
			t.Errorf("%s: HasStatus = %v but AggregateStatus set = %v", a.Kind, a.HasStatus, a.AggregateStatus != nil)
		}
	}
	if position["Namespace"] != 0 {
		t.Errorf("Namespace is at %d, want first", position["Namespace"])
	}
	if ic, ing := position["IngressClass"], position["Ingress"]; ic >= ing {
		t.Errorf("IngressClass at %d, Ingress at %d: the class must come first", ic, ing)
	}
	for _, first := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		for _, then := range []string{"ReplicaSet", "Deployment", "DaemonSet", "Job"} {
			if position[first] >= position[then] {
				t.Errorf("%s at %d, %s at %d: pods must find their account and its rights", first, position[first], then, position[then])
			}
		}
	}
}

// TestClusterRoleKeepsAggregatedRules: the rules of an aggregated role are
// each member's (its aggregation controller fills them in), so they are
// kept; the rules of a plain role are the federation's.
func TestClusterRoleKeepsAggregatedRules(t *testing.T) {
	memberRules := []interface{}{map[string]interface{}{"verbs": []interface{}{"get"}, "apiGroups": []interface{}{""}, "resources": []interface{}{"pods"}}}
	member := u(map[string]interface{}{"kind": "ClusterRole", "rules": memberRules})
	a := ClusterRole()

	aggregated := u(map[string]interface{}{"kind": "ClusterRole",
		"aggregationRule": map[string]interface{}{"clusterRoleSelectors": []interface{}{map[string]interface{}{"matchLabels": map[string]interface{}{"x": "y"}}}}})
	a.Retain(aggregated, member)
	if !reflect.DeepEqual(aggregated.Object["rules"], memberRules) {
		t.Errorf("aggregated role: rules = %v, want the member's %v", aggregated.Object["rules"], memberRules)
	}

	ownRules := []interface{}{map[string]interface{}{"verbs": []interface{}{"list"}, "apiGroups": []interface{}{""}, "resources": []interface{}{"secrets"}}}
	plain := u(map[string]interface{}{"kind": "ClusterRole", "rules": ownRules})
	a.Retain(plain, member)
	if !reflect.DeepEqual(plain.Object["rules"], ownRules) {
		t.Errorf("plain role: rules = %v, want the federation's %v", plain.Object["rules"], ownRules)
	}
}

func TestIngressClass(t *testing.T) {
	a := IngressClass()
	want := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
	if a.GVR != want || a.Kind != "IngressClass" || a.Namespaced {
		t.Errorf("IngressClass() = %s %s namespaced=%v, want cluster-scoped %s", a.GVR, a.Kind, a.Namespaced, want)
	}
	if !reflect.DeepEqual(a.Fields, []string{"spec"}) || a.HasStatus {
		t.Errorf("IngressClass() sends %v, status %v; want spec only, no status", a.Fields, a.HasStatus)
	}
	// Nothing about a class is the members' own: no field is kept from
	// them, nothing is prepared away, nothing split.
	if a.Retain != nil || a.PrepareDesired != nil || len(a.Replicas) > 0 {
		t.Error("IngressClass() keeps, drops or splits fields; members should get the spec as written")
	}
}
