package servicedns

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

var svc = Service{Name: "nginx", Namespace: "mynamespace", Federation: "myfederation", Suffix: "example.com", TTL: 180}

const (
	zoneA  = "nginx.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com."
	zoneB  = "nginx.mynamespace.myfederation.svc.us-central1-b.us-central1.example.com."
	zoneEU = "nginx.mynamespace.myfederation.svc.europe-west1-b.europe-west1.example.com."
	regUS  = "nginx.mynamespace.myfederation.svc.us-central1.example.com."
	regEU  = "nginx.mynamespace.myfederation.svc.europe-west1.example.com."
	global = "nginx.mynamespace.myfederation.svc.example.com."
)

func shards(healthyA, healthyB, healthyEU bool) []Shard {
	return []Shard{
		{Cluster: "us-central1-a", Zones: []string{"us-central1-a"}, Region: "us-central1", Healthy: healthyA, IPs: []string{"10.0.0.1"}},
		{Cluster: "us-central1-b", Zones: []string{"us-central1-b"}, Region: "us-central1", Healthy: healthyB, IPs: []string{"10.0.0.2"}},
		{Cluster: "europe-west1-b", Zones: []string{"europe-west1-b"}, Region: "europe-west1", Healthy: healthyEU, IPs: []string{"10.0.1.1"}},
	}
}

// render writes record sets one a line, "name TYPE data,data", for
// comparing with the table of the issue.
func render(sets []dnsprovider.RecordSet) string {
	var b strings.Builder
	for _, rs := range sets {
		fmt.Fprintf(&b, "%s %s %s ttl=%d\n", rs.Name, rs.Type, strings.Join(rs.Data, ","), rs.TTL)
	}
	return b.String()
}

func TestDesired(t *testing.T) {
	cases := []struct {
		name   string
		shards []Shard
		want   []string
	}{
		{"every shard healthy", shards(true, true, true), []string{
			global + " A 10.0.0.1,10.0.0.2,10.0.1.1",
			regEU + " A 10.0.1.1",
			regUS + " A 10.0.0.1,10.0.0.2",
			zoneEU + " A 10.0.1.1",
			zoneA + " A 10.0.0.1",
			zoneB + " A 10.0.0.2",
		}},
		{"one zone unhealthy: its name goes up to the region", shards(false, true, true), []string{
			global + " A 10.0.0.2,10.0.1.1",
			regEU + " A 10.0.1.1",
			regUS + " A 10.0.0.2",
			zoneEU + " A 10.0.1.1",
			zoneA + " CNAME " + regUS,
			zoneB + " A 10.0.0.2",
		}},
		{"a whole region unhealthy: it goes up to the global name", shards(true, true, false), []string{
			global + " A 10.0.0.1,10.0.0.2",
			regEU + " CNAME " + global,
			regUS + " A 10.0.0.1,10.0.0.2",
			zoneEU + " CNAME " + regEU,
			zoneA + " A 10.0.0.1",
			zoneB + " A 10.0.0.2",
		}},
		{"nothing healthy: no global record", shards(false, false, false), []string{
			regEU + " CNAME " + global,
			regUS + " CNAME " + global,
			zoneEU + " CNAME " + regEU,
			zoneA + " CNAME " + regUS,
			zoneB + " CNAME " + regUS,
		}},
		{"every zone of a multi-zone cluster, IPv6 as AAAA", []Shard{
			{Cluster: "c", Zones: []string{"us-central1-a", "us-central1-b"}, Region: "us-central1", Healthy: true, IPs: []string{"2001:db8::1", "10.0.0.1"}},
		}, []string{
			global + " A 10.0.0.1",
			global + " AAAA 2001:db8::1",
			regUS + " A 10.0.0.1",
			regUS + " AAAA 2001:db8::1",
			zoneA + " A 10.0.0.1",
			zoneA + " AAAA 2001:db8::1",
			zoneB + " A 10.0.0.1",
			zoneB + " AAAA 2001:db8::1",
		}},
		{"a load balancer's host name, alone at a name: CNAME", []Shard{
			{Cluster: "aws", Zones: []string{"us-central1-a"}, Region: "us-central1", Healthy: true, Hostnames: []string{"lb-1.elb.example.net"}},
		}, []string{
			global + " CNAME lb-1.elb.example.net.",
			regUS + " CNAME lb-1.elb.example.net.",
			zoneA + " CNAME lb-1.elb.example.net.",
		}},
		{"a shard with no load-balancer address counts as none", []Shard{
			{Cluster: "a", Zones: []string{"us-central1-a"}, Region: "us-central1", Healthy: true},
		}, []string{
			regUS + " CNAME " + global,
			zoneA + " CNAME " + regUS,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(Desired(svc, tc.shards))
			lines := slices.Clone(tc.want)
			slices.Sort(lines) // Desired sorts by name, then type
			want := strings.Join(lines, " ttl=180\n") + " ttl=180\n"
			if got != want {
				t.Errorf("got\n%swant\n%s", got, want)
			}
		})
	}
}
