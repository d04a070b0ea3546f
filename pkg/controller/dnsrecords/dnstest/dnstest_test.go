package dnstest

import (
	"context"
	"errors"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/test/fakeclouddns"
)

// TestRecordsNamesOwners: Records renders each set with its owner: the
// object for this federation's, federation/object for another's, foreign
// for a set with no ownership record.
func TestRecordsNamesOwners(t *testing.T) {
	e := New(t, Config{Resource: corev1.SchemeGroupVersion.WithResource("services"), Kind: "Service"})
	for _, c := range []dnsprovider.Change{
		{Owner: dnsprovider.Owner{Federation: FederationName, Object: "service/ns/a"}, Add: []dnsprovider.RecordSet{{Name: "a.example.com.", Type: dnsprovider.A, TTL: 60, Data: []string{"192.0.2.1"}}}},
		{Owner: dnsprovider.Owner{Federation: "other", Object: "service/ns/b"}, Add: []dnsprovider.RecordSet{{Name: "b.example.com.", Type: dnsprovider.A, TTL: 60, Data: []string{"192.0.2.2"}}}},
	} {
		if err := e.Zone.Apply(e.Ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	e.PutForeign("c.example.com.", dnsprovider.CNAME, 300, "elsewhere.example.net.")
	e.WantRecords("three owners",
		Rec("a.example.com.", dnsprovider.A, 60, "service/ns/a", "192.0.2.1"),
		Rec("b.example.com.", dnsprovider.A, 60, "other/service/ns/b", "192.0.2.2"),
		Rec("c.example.com.", dnsprovider.CNAME, 300, "foreign", "elsewhere.example.net."),
	)
	if got := e.Requests()[fakeclouddns.MethodChangesCreate]; got != 2 {
		t.Errorf("%d changes.create, want 2", got)
	}
	if got := e.Requests(); len(got) != 0 {
		t.Errorf("requests after Requests %v, want none", got)
	}
}

// TestHookedZone: BeforeApply runs once, before the next change only;
// LoseAnswer makes the next change go through and fail.
func TestHookedZone(t *testing.T) {
	e := New(t, Config{Resource: corev1.SchemeGroupVersion.WithResource("services"), Kind: "Service"})
	change := func(ip string) dnsprovider.Change {
		return dnsprovider.Change{Owner: dnsprovider.Owner{Federation: FederationName, Object: "service/ns/a"},
			Add: []dnsprovider.RecordSet{{Name: "a.example.com.", Type: dnsprovider.A, TTL: 60, Data: []string{ip}}}}
	}
	e.Zone.BeforeApply = func() { e.DNS.FailNext(1, http.StatusServiceUnavailable) }
	if err := e.Zone.Apply(e.Ctx, change("192.0.2.1")); err == nil {
		t.Fatal("Apply after a hook that fails the next request succeeded")
	}
	e.Zone.LoseAnswer = true
	if err := e.Zone.Apply(e.Ctx, change("192.0.2.1")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply with the answer lost = %v, want context.DeadlineExceeded", err)
	}
	e.WantRecords("the change whose answer was lost", Rec("a.example.com.", dnsprovider.A, 60, "service/ns/a", "192.0.2.1"))
	if e.Zone.BeforeApply != nil || e.Zone.LoseAnswer {
		t.Error("the hooks are still set after they ran")
	}
}

// TestMembersCopies: a copy read back is the members' own no more, and a
// cluster without one reads nil.
func TestMembersCopies(t *testing.T) {
	m := NewMembers[*corev1.Service](nil)
	m.SetCopy("c1", "ns", "a", &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}})
	got := m.Copy("c1", "ns", "a")
	got.Spec.Type = corev1.ServiceTypeClusterIP
	if m.Copy("c1", "ns", "a").Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Error("changing a copy read back changed the member's")
	}
	m.DeleteCopy("c1", "ns", "a")
	if c := m.Copy("c1", "ns", "a"); c != nil {
		t.Errorf("Copy after DeleteCopy = %v, want nil", c)
	}
	if ok, _ := m.ReadyEndpoint("c1", "ns", "a"); ok || !m.Synced("c1") {
		t.Errorf("a new member: ready endpoint %v, synced %v; want false, true", ok, m.Synced("c1"))
	}
}
