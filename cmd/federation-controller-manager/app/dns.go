package app

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kfederation/federation/cmd/federation-controller-manager/app/options"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/ingressdns"
	"github.com/kfederation/federation/pkg/controller/ingresslb"
	"github.com/kfederation/federation/pkg/controller/servicedns"
	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/pkg/dnsprovider/coredns"
)

// dnsZone is the controller manager's one DNS provider and zone, shared by
// the DNS controllers (Service DNS, Ingress DNS): the first to start opens
// the provider and looks the zone up, once, and each controller runs when
// the zone is found.
type dnsZone struct {
	o     *options.Options
	once  sync.Once
	err   error
	found chan struct{}
	zone  dnsprovider.Zone
}

func newDNSZone(o *options.Options) *dnsZone { return &dnsZone{o: o, found: make(chan struct{})} }

// start opens the provider and starts looking the zone up, on the first
// call; it returns the provider's configuration error, to every caller.
func (d *dnsZone) start(ctx context.Context) error {
	d.once.Do(func() {
		provider, err := openDNSProvider(ctx, d.o.DNSProvider, d.o.DNSProviderConfig)
		if err != nil {
			d.err = err
			return
		}
		go runWithZone(ctx, provider, d.o.ZoneName, d.o.ZoneID, func(zone dnsprovider.Zone) {
			d.zone = zone
			close(d.found)
		})
	})
	return d.err
}

// run calls run with the zone once it is found, in a goroutine of its own;
// never if ctx ends first.
func (d *dnsZone) run(ctx context.Context, run func(dnsprovider.Zone)) {
	go func() {
		select {
		case <-d.found:
			run(d.zone)
		case <-ctx.Done():
		}
	}()
}

// startServiceDNS returns the start function of the Service DNS
// controller. Without --dns-provider it runs only to take its finalizer
// off deleted Services, and says once that DNS is off.
func startServiceDNS(o *options.Options, z *dnsZone) startFunc {
	return func(ctx context.Context, cctx *controller.Context) error {
		opts := servicedns.Options{
			Suffix:         o.ServiceDNSSuffix,
			TTL:            o.DNSTTL,
			UnhealthyGrace: o.DNSUnhealthyGrace,
		}
		if opts.Suffix == "" {
			opts.Suffix = o.ZoneName
		}
		if o.DNSProvider == "" {
			go servicedns.New(ctx, cctx, false, opts).Run(ctx, nil, 1)
			return nil
		}
		if err := z.start(ctx); err != nil {
			return err
		}
		// The controller is wired now, so that its informers start with
		// the others; it runs once the zone is there.
		c := servicedns.New(ctx, cctx, true, opts)
		z.run(ctx, func(zone dnsprovider.Zone) { c.Run(ctx, zone, cctx.ConcurrentSyncs) })
		return nil
	}
}

// releaseServiceDNS stands in for the Service DNS controller turned off
// with --controllers: it takes its finalizer off deleted Services.
func releaseServiceDNS(o *options.Options) startFunc {
	return func(ctx context.Context, cctx *controller.Context) error {
		go servicedns.New(ctx, cctx, false, servicedns.Options{}).Run(ctx, nil, 1)
		return nil
	}
}

// startIngressDNS returns the start function of the Ingress DNS
// controller, which writes into the same zone as Service DNS. Without
// --dns-provider it runs only to take its finalizer off deleted Ingresses,
// and says once that DNS is off.
func startIngressDNS(o *options.Options, z *dnsZone) startFunc {
	return func(ctx context.Context, cctx *controller.Context) error {
		opts := ingressdns.Options{
			TTL:            o.DNSTTL,
			UnhealthyGrace: o.DNSUnhealthyGrace,
			// GCE's Ingresses are the global load balancer's when it
			// runs; else each member gives them an address of its own.
			LeaveGCEIngresses: o.CloudProvider == "gce" && o.Enabled(ingresslb.Name),
		}
		if o.DNSProvider == "" {
			go ingressdns.New(ctx, cctx, false, opts).Run(ctx, nil, 1)
			return nil
		}
		if err := z.start(ctx); err != nil {
			return err
		}
		c := ingressdns.New(ctx, cctx, true, opts)
		z.run(ctx, func(zone dnsprovider.Zone) { c.Run(ctx, zone, cctx.ConcurrentSyncs) })
		return nil
	}
}

// releaseIngressDNS stands in for the Ingress DNS controller turned off
// with --controllers: it takes its finalizer off deleted Ingresses.
func releaseIngressDNS(o *options.Options) startFunc {
	return func(ctx context.Context, cctx *controller.Context) error {
		go ingressdns.New(ctx, cctx, false, ingressdns.Options{}).Run(ctx, nil, 1)
		return nil
	}
}

// openDNSProvider reads the provider's configuration file and makes its
// client. It does not reach the provider: that happens when the zone is
// looked up, with retries.
func openDNSProvider(ctx context.Context, name, configFile string) (dnsprovider.Provider, error) {
	f, err := os.Open(configFile)
	if err != nil {
		return nil, fmt.Errorf("--dns-provider-config: %w", err)
	}
	defer f.Close()
	switch name {
	case "coredns":
		return coredns.NewFromConfig(f)
	case "google-clouddns":
		return clouddns.NewFromConfig(ctx, f)
	}
	return nil, fmt.Errorf("--dns-provider %q: unknown; use one of %v", name, options.DNSProviders)
}

// runWithZone finds (or creates) the zone, retrying with backoff while the
// provider cannot be reached or refuses, then calls run with it.
func runWithZone(ctx context.Context, p dnsprovider.Provider, name, id string, run func(dnsprovider.Zone)) {
	logger := klog.FromContext(ctx).WithName("dns")
	backoff := wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 1 << 30, Cap: time.Minute}
	var zone dnsprovider.Zone
	_ = wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		zctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		z, err := p.Zone(zctx, name, id)
		if err != nil {
			logger.Error(err, "Cannot get the DNS zone; retrying", "zone", name, "id", id)
			return false, nil
		}
		zone = z
		return true, nil
	})
	if zone != nil {
		run(zone)
	}
}
