package servicedns

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/test/fakeclouddns"
	"github.com/kfederation/federation/test/framework"
)

const (
	gcpProject = "kfed-e2e"
	// managedZone is the name the provider gives the zone it creates for
	// example.com.
	managedZone = "kfed-example-com"
)

// TestCloudDNS runs the real controller manager with the Google Cloud DNS
// provider against the fake Cloud DNS, which answers 503 while the zone is
// first looked up and 429 when a change is sent: the zone is created, and
// the records arrive and follow a shard going unhealthy, through the
// retries.
func TestCloudDNS(t *testing.T) {
	n := names{ns: "clouddns", svc: "web"}
	createApp(t, n.ns, n.svc)
	ips := lbAddresses(t, n.ns, n.svc)
	expectAll(t, n, ips, zoneA, zoneB, zoneE)

	fake := fakeclouddns.New()
	fake.Start()
	defer fake.Close()
	config := filepath.Join(t.TempDir(), "clouddns.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("project: %s\nendpoint: %s\n", gcpProject, fake.URL())), 0o600); err != nil {
		t.Fatal(err)
	}
	// The federation's own controller manager steps aside for one that
	// writes to Cloud DNS.
	if err := fed.ControllerManager.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := fed.ControllerManager.Start(); err != nil {
			t.Errorf("restart the federation's controller manager: %v", err)
		}
	}()
	fake.FailNext(3, http.StatusServiceUnavailable)
	cm := framework.NewProcess("federation-controller-manager-clouddns", framework.Binary("federation-controller-manager"), []string{
		"--kubeconfig=" + filepath.Join(fed.Dir, "federation-apiserver", "admin.kubeconfig"),
		"--federation-name=" + federationName, "--secure-port=0", "--leader-elect=false", "-v=2",
		"--dns-provider=google-clouddns", "--dns-provider-config=" + config, "--zone-name=example.com",
	}, fed.LogDir)
	if err := cm.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cm.Stop(10 * time.Second) }()

	framework.Eventually(t, transition, "the Service's records in Cloud DNS", func(context.Context) error {
		return cloudRecords(fake, n.global()+" A 180 "+strings.Join(sorted(ips[zoneA], ips[zoneB], ips[zoneE]), ","),
			n.zone(zoneA, usCentral)+" A 180 "+ips[zoneA])
	})
	fake.FailNext(3, http.StatusTooManyRequests)
	setPreferences(t, n.ns, n.svc, without(zoneA))
	framework.Eventually(t, transition, "the records after a shard went unhealthy", func(context.Context) error {
		return cloudRecords(fake, n.global()+" A 180 "+strings.Join(sorted(ips[zoneB], ips[zoneE]), ","),
			n.zone(zoneA, usCentral)+" CNAME 180 "+n.region(usCentral))
	})
	if got := fake.Requests()[fakeclouddns.MethodManagedZonesCreate]; got != 1 {
		t.Errorf("managedZones.create was called %d times, want 1", got)
	}
}

// cloudRecords says whether the fake Cloud DNS has each record set, given
// as "name type ttl data,data", and an ownership record beside it.
func cloudRecords(fake *fakeclouddns.Server, want ...string) error {
	sets, err := fake.RecordSets(gcpProject, managedZone)
	if err != nil {
		return err
	}
	var have []string
	for _, rs := range sets {
		have = append(have, fmt.Sprintf("%s %s %d %s", rs.Name, rs.Type, rs.TTL, strings.Join(sorted(rs.Rrdatas...), ",")))
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return fmt.Errorf("no %q among %q", w, have)
		}
		name, typ, _ := strings.Cut(w, " ")
		typ, _, _ = strings.Cut(typ, " ")
		owner := "_kfed-owner-" + strings.ToLower(typ) + "." + name
		if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, owner+" TXT ") }) {
			return fmt.Errorf("%s has no ownership record %s", w, owner)
		}
	}
	return nil
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
