package fakeglbc

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"google.golang.org/api/compute/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestSharedLoadBalancer(t *testing.T) {
	tests := []struct {
		name       string
		uidA, uidB map[string]string
		firewalls  []string
	}{{
		name:      "distinct provider-uids, one firewall rule each",
		uidA:      map[string]string{"uid": "shared", "provider-uid": "aaaa"},
		uidB:      map[string]string{"uid": "shared", "provider-uid": "bbbb"},
		firewalls: []string{"k8s-fw-l7--aaaa", "k8s-fw-l7--bbbb"},
	}, {
		name:      "same uid without provider-uid, one shared firewall rule",
		uidA:      map[string]string{"uid": "shared"},
		uidB:      map[string]string{"uid": "shared"},
		firewalls: []string{"k8s-fw-l7--shared"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloud(t)
			a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: tt.uidA})
			b := startMember(t, c, memberConfig{name: "member-b", zone: "zone-b", uid: tt.uidB})
			a.create(t, newIngress("web", nil))
			b.create(t, newIngress("web", nil))

			be := "k8s-be-30080--shared"
			eventually(t, "both groups in the one backend service", func() error {
				zones, err := c.groupsOf(be)
				if err != nil {
					return err
				}
				if !slices.Equal(zones, []string{"zone-a", "zone-b"}) {
					return fmt.Errorf("backend service %s has groups in %v", be, zones)
				}
				return nil
			})
			eventually(t, "both members served at the rule's address", func() error {
				fr, err := c.api.GlobalForwardingRules.Get(project, "k8s-fw-default-web--shared").Do()
				if err != nil {
					return err
				}
				for _, m := range []*member{a, b} {
					if got := m.servedAt(t, "web"); got == "" || got != fr.IPAddress {
						return fmt.Errorf("%s is served at %q, the forwarding rule is at %q", m.name, got, fr.IPAddress)
					}
				}
				return nil
			})
			for collection, want := range map[string][]string{
				"urlMaps":               {"k8s-um-default-web--shared"},
				"targetHttpProxies":     {"k8s-tp-default-web--shared"},
				"globalForwardingRules": {"k8s-fw-default-web--shared"},
				"backendServices":       {be},
				"healthChecks":          {be},
				"firewalls":             tt.firewalls,
			} {
				eventually(t, collection, func() error { return c.namesAre(collection, want...) })
			}

			ing := a.ingress(t, "web")
			for k, want := range map[string]string{
				AnnotationURLMap:         "k8s-um-default-web--shared",
				AnnotationTargetProxy:    "k8s-tp-default-web--shared",
				AnnotationForwardingRule: "k8s-fw-default-web--shared",
			} {
				if got := ing.Annotations[k]; got != want {
					t.Errorf("annotation %s = %q, want %q", k, got, want)
				}
			}
			var health map[string]string
			if err := json.Unmarshal([]byte(ing.Annotations[AnnotationBackends]), &health); err != nil || health[be] != "HEALTHY" {
				t.Errorf("annotation %s = %q", AnnotationBackends, ing.Annotations[AnnotationBackends])
			}
			if _, ok := ing.Annotations[AnnotationStaticIP]; ok {
				t.Errorf("annotation %s on an ingress without a static IP", AnnotationStaticIP)
			}

			ig, err := c.api.InstanceGroups.Get(project, "zone-a", "k8s-ig--shared").Do()
			if err != nil {
				t.Fatal(err)
			}
			if len(ig.NamedPorts) != 1 || ig.NamedPorts[0].Name != "port30080" || ig.NamedPorts[0].Port != webNodePort {
				t.Errorf("named ports of the group: %+v", ig.NamedPorts)
			}
			fw, err := c.api.Firewalls.Get(project, tt.firewalls[0]).Do()
			if err != nil {
				t.Fatal(err)
			}
			if !sameSet(fw.SourceRanges, []string{"130.211.0.0/22", "35.191.0.0/16"}) || len(fw.Allowed) != 1 ||
				!slices.Equal(fw.Allowed[0].Ports, []string{"30080"}) || len(fw.TargetTags) != 1 {
				t.Errorf("firewall %+v allowed %+v", fw, fw.Allowed)
			}
		})
	}
}

func TestStaticIP(t *testing.T) {
	c := newCloud(t)
	op, err := c.api.GlobalAddresses.Insert(project, &compute.Address{Name: "fed-ip"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.api.GlobalOperations.Wait(project, op.Name).Do(); err != nil {
		t.Fatal(err)
	}
	addr, err := c.api.GlobalAddresses.Get(project, "fed-ip").Do()
	if err != nil || addr.Address == "" {
		t.Fatalf("address: %+v, %v", addr, err)
	}
	uid := map[string]string{"uid": "u1"}
	a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: uid})
	b := startMember(t, c, memberConfig{name: "member-b", zone: "zone-b", uid: uid})
	static := map[string]string{AnnotationGlobalStaticIP: "fed-ip"}
	a.create(t, newIngress("web", static))
	b.create(t, newIngress("web", static))

	for _, m := range []*member{a, b} {
		eventually(t, m.name+" served at the static IP", func() error {
			if got := m.servedAt(t, "web"); got != addr.Address {
				return fmt.Errorf("served at %q, want %q", got, addr.Address)
			}
			return nil
		})
		if got := m.ingress(t, "web").Annotations[AnnotationStaticIP]; got != "fed-ip" {
			t.Errorf("%s: annotation %s = %q", m.name, AnnotationStaticIP, got)
		}
	}
	fr, err := c.api.GlobalForwardingRules.Get(project, "k8s-fw-default-web--u1").Do()
	if err != nil || fr.IPAddress != addr.Address {
		t.Fatalf("forwarding rule %+v, %v: want address %s", fr, err, addr.Address)
	}

	t.Run("address created later", func(t *testing.T) {
		a.create(t, newIngress("late", map[string]string{AnnotationGlobalStaticIP: "late-ip"}))
		eventually(t, "a warning event", func() error {
			evs, err := a.client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return err
			}
			for _, e := range evs.Items {
				if e.InvolvedObject.Name == "late" && e.Reason == EventReasonSyncError && e.Type == "Warning" {
					return nil
				}
			}
			return fmt.Errorf("no %s event among %d", EventReasonSyncError, len(evs.Items))
		})
		if got := a.servedAt(t, "late"); got != "" {
			t.Fatalf("served at %q without its address", got)
		}
		if _, err := c.api.GlobalAddresses.Insert(project, &compute.Address{Name: "late-ip", Address: "203.0.113.77"}).Do(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "served once the address exists", func() error {
			if got := a.servedAt(t, "late"); got != "203.0.113.77" {
				return fmt.Errorf("served at %q", got)
			}
			return nil
		})
	})
}

func TestOtherClassesLeftAlone(t *testing.T) {
	c := newCloud(t)
	nginx := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec:       networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
	}
	gce := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gce"},
		Spec:       networkingv1.IngressClassSpec{Controller: ControllerGCE},
	}
	a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: map[string]string{"uid": "u"},
		objects: []runtime.Object{nginx, gce}})
	a.create(t, newIngress("by-annotation", map[string]string{AnnotationIngressClass: "nginx"}))
	byClass := newIngress("by-class", nil)
	byClass.Spec.IngressClassName = ptr.To("nginx")
	a.create(t, byClass)
	eventually(t, "nothing made", func() error {
		// The VMs stand for the member's nodes; they exist regardless.
		return c.namesAre("instances", "member-a-node-0", "member-a-node-1")
	})
	// An Ingress of class gce queued after them shows they were handled.
	ours := newIngress("ours", nil)
	ours.Spec.IngressClassName = ptr.To("gce")
	a.create(t, ours)
	eventually(t, "gce ingress served", func() error {
		if a.servedAt(t, "ours") == "" {
			return fmt.Errorf("not served")
		}
		return nil
	})
	if err := c.namesAre("urlMaps", "k8s-um-default-ours--u"); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"by-annotation", "by-class"} {
		ing := a.ingress(t, name)
		if len(ing.Status.LoadBalancer.Ingress) != 0 || ing.Annotations[AnnotationURLMap] != "" {
			t.Errorf("%s was touched: %+v %v", name, ing.Status, ing.Annotations)
		}
	}
}

func TestDelete(t *testing.T) {
	c := newCloud(t)
	if _, err := c.api.GlobalAddresses.Insert(project, &compute.Address{Name: "fed-ip", Address: "203.0.113.10"}).Do(); err != nil {
		t.Fatal(err)
	}
	a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: map[string]string{"uid": "u", "provider-uid": "pa"}})
	b := startMember(t, c, memberConfig{name: "member-b", zone: "zone-b", uid: map[string]string{"uid": "u", "provider-uid": "pb"}})
	static := map[string]string{AnnotationGlobalStaticIP: "fed-ip"}
	a.create(t, newIngress("web", static))
	b.create(t, newIngress("web", static))
	eventually(t, "both groups in the backend service", func() error {
		zones, err := c.groupsOf("k8s-be-30080--u")
		if err != nil || len(zones) != 2 {
			return fmt.Errorf("zones %v, %v", zones, err)
		}
		return nil
	})

	a.delete(t, "web")
	eventually(t, "member-a's group out of the backend service", func() error {
		zones, err := c.groupsOf("k8s-be-30080--u")
		if err != nil || !slices.Equal(zones, []string{"zone-b"}) {
			return fmt.Errorf("zones %v, %v", zones, err)
		}
		return nil
	})
	eventually(t, "member-a's firewall rule gone", func() error { return c.namesAre("firewalls", "k8s-fw-l7--pb") })
	for collection, want := range map[string]string{
		"urlMaps": "k8s-um-default-web--u", "targetHttpProxies": "k8s-tp-default-web--u",
		"globalForwardingRules": "k8s-fw-default-web--u", "healthChecks": "k8s-be-30080--u",
	} {
		if err := c.namesAre(collection, want); err != nil {
			t.Errorf("member-b's load balancer lost: %v", err)
		}
	}
	if got := b.servedAt(t, "web"); got != "203.0.113.10" {
		t.Errorf("member-b served at %q", got)
	}

	b.delete(t, "web")
	for _, collection := range []string{
		"globalForwardingRules", "targetHttpProxies", "urlMaps", "backendServices", "healthChecks", "firewalls", "instanceGroups",
	} {
		eventually(t, collection+" empty", func() error { return c.namesAre(collection) })
	}
	if err := c.namesAre("globalAddresses", "fed-ip"); err != nil {
		t.Error(err)
	}
}

func TestUIDFromConfigMap(t *testing.T) {
	c := newCloud(t)
	a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a"})
	cm, err := a.client.CoreV1().ConfigMaps(uidNamespace).Get(context.Background(), uidConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("GLBC did not create its ConfigMap: %v", err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(cm.Data["uid"]) {
		t.Errorf("created uid %q is not 8 bytes of hex", cm.Data["uid"])
	}
	if n := a.glbc.Namer(); n.UID != cm.Data["uid"] || n.FirewallSuffix != cm.Data["uid"] {
		t.Errorf("namer %+v does not follow the ConfigMap %v", n, cm.Data)
	}

	cm.Data = map[string]string{"uid": "fed", "provider-uid": "p1"}
	if _, err := a.client.CoreV1().ConfigMaps(uidNamespace).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new uid taken", func() error {
		if n := a.glbc.Namer(); n != (Namer{UID: "fed", FirewallSuffix: "p1"}) {
			return fmt.Errorf("namer %+v", n)
		}
		return nil
	})
	a.create(t, newIngress("web", nil))
	eventually(t, "named after the new uid", func() error {
		if err := c.namesAre("urlMaps", "k8s-um-default-web--fed"); err != nil {
			return err
		}
		return c.namesAre("firewalls", "k8s-fw-l7--p1")
	})
}

func TestBackendChange(t *testing.T) {
	c := newCloud(t)
	a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: map[string]string{"uid": "u"}})
	a.create(t, newIngress("web", nil))
	eventually(t, "served on port 80", func() error { return c.namesAre("backendServices", "k8s-be-30080--u") })

	ing := a.ingress(t, "web")
	ing.Spec.DefaultBackend.Service.Port = networkingv1.ServiceBackendPort{Number: 81}
	if _, err := a.client.NetworkingV1().Ingresses(ns).Update(context.Background(), ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "moved to port 81, port 80 released", func() error {
		if err := c.namesAre("backendServices", "k8s-be-30081--u"); err != nil {
			return err
		}
		if err := c.namesAre("healthChecks", "k8s-be-30081--u"); err != nil {
			return err
		}
		um, err := c.api.UrlMaps.Get(project, "k8s-um-default-web--u").Do()
		if err != nil {
			return err
		}
		if lastSegment(um.DefaultService) != "k8s-be-30081--u" {
			return fmt.Errorf("url map routes to %s", um.DefaultService)
		}
		fw, err := c.api.Firewalls.Get(project, "k8s-fw-l7--u").Do()
		if err != nil {
			return err
		}
		if !slices.Equal(fw.Allowed[0].Ports, []string{"30081"}) {
			return fmt.Errorf("firewall allows %v", fw.Allowed[0].Ports)
		}
		return nil
	})
}
