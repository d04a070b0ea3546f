package ingresslb

import (
	"context"
	"net/http"
	"testing"

	compute "google.golang.org/api/compute/v1"

	"github.com/kfederation/federation/pkg/controller/ingresslb"
)

// TestCloudFaults: errors and slow operations of the Compute API, and an
// address the federation reserved before it could name it in the Ingress
// (409 on the next try), end in the same one load balancer.
func TestCloudFaults(t *testing.T) {
	const ns, name = "faults", "faults"
	ctx := context.Background()
	// A reservation of an earlier attempt, which the federation adopts.
	pre := ingresslb.AddressName(federationName, ns, name)
	note := `{"kubernetes.io/federation":"` + federationName + `","ingress":"` + ns + "/" + name + `"}`
	if _, err := fed.Cloud.Service.GlobalAddresses.Insert(fed.Cloud.Project, &compute.Address{Name: pre, Description: note}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	a, err := fed.Cloud.Service.GlobalAddresses.Get(fed.Cloud.Project, pre).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	fed.Cloud.Server.FailNext(3, http.StatusServiceUnavailable)
	fed.Cloud.Server.SlowNext(4, 2)
	createApp(t, ns, name, nil)
	fed.Cloud.Server.FailNext(2, http.StatusTooManyRequests)

	addrName, ip := addressOf(t, ns, name)
	if addrName != pre || ip != a.Address {
		t.Errorf("address %s (%s), want the one reserved before, %s (%s)", addrName, ip, pre, a.Address)
	}
	uid := federationUID(t)
	port := nodePort(t, ns, fed.Members)
	waitOneLoadBalancer(t, ns, name, ip, uid, port, fed.Members)
	waitFirewall(t, []int32{port}, fed.Members)
	fed.Cloud.Server.FailNext(2, http.StatusServiceUnavailable)
	waitDeleted(t, ns, name)
}
