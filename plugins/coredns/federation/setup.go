package federation

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/kubernetes"
	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/validation"
)

func init() { plugin.Register(PluginName, setup) }

func setup(c *caddy.Controller) error {
	f, err := parse(c)
	if err != nil {
		return plugin.Error(PluginName, err)
	}
	if f.zone == "" || f.region == "" {
		log.Warningf("No `zone` and `region` in the federation block: names of Services that are not healthy in this cluster will be answered SERVFAIL")
	}

	// The kubernetes plugin's handler exists once every plugin is set up.
	c.OnStartup(func() error {
		k, err := kubernetesOf(dnsserver.GetConfig(c).Handler("kubernetes"))
		if err != nil {
			return plugin.Error(PluginName, err)
		}
		f.cluster = kubernetesCluster{k: k}
		return nil
	})

	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
		f.Next = next
		return f
	})
	return nil
}

// kubernetesOf returns h, the kubernetes plugin of the server block.
func kubernetesOf(h plugin.Handler) (*kubernetes.Kubernetes, error) {
	if h == nil {
		return nil, errors.New("the federation plugin needs the kubernetes plugin in the same server block")
	}
	k, ok := h.(*kubernetes.Kubernetes)
	if !ok || k.APIConn == nil {
		return nil, fmt.Errorf("the server block's kubernetes handler is a %T, not the kubernetes plugin with its API connection", h)
	}
	return k, nil
}

// parse reads
//
//	federation [CLUSTER-DOMAINS...] {
//	    FEDERATION-NAME DNS-DOMAIN
//	    zone ZONE
//	    region REGION
//	}
//
// with one or more federations; zone and region are optional.
func parse(c *caddy.Controller) (*Federation, error) {
	f := &Federation{federations: map[string]string{}}
	blocks := 0
	for c.Next() {
		if blocks++; blocks > 1 {
			return nil, plugin.ErrOnce
		}
		args := c.RemainingArgs()
		for _, a := range args {
			if _, ok := dns.IsDomainName(a); !ok {
				return nil, c.Errf("cluster domain %q is not a valid domain name", a)
			}
		}
		for _, d := range plugin.OriginsFromArgsOrServerBlock(args, c.ServerBlockKeys) {
			d = strings.ToLower(dns.Fqdn(d))
			if !slices.Contains(f.clusterDomains, d) {
				f.clusterDomains = append(f.clusterDomains, d)
			}
		}
		if len(f.clusterDomains) == 0 {
			return nil, c.Err("no cluster domain")
		}
		// Longest first, so that the most specific cluster domain wins.
		slices.SortStableFunc(f.clusterDomains, func(a, b string) int { return len(b) - len(a) })

		for c.NextBlock() {
			key := c.Val()
			args := c.RemainingArgs()
			switch key {
			case "zone", "region":
				if len(args) != 1 {
					return nil, c.Errf("%s takes one argument, this cluster's %s", key, key)
				}
				v := strings.ToLower(args[0])
				if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
					return nil, c.Errf("%s %q: %s", key, args[0], strings.Join(errs, "; "))
				}
				current := &f.zone
				if key == "region" {
					current = &f.region
				}
				if *current != "" {
					return nil, c.Errf("%s given twice", key)
				}
				*current = v
			default:
				if len(args) != 1 {
					return nil, c.Errf("want \"<federation-name> <dns-domain>\", zone or region, got %q with %d arguments", key, len(args))
				}
				name := strings.ToLower(key)
				if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
					return nil, c.Errf("federation name %q: %s", key, strings.Join(errs, "; "))
				}
				domain := strings.TrimSuffix(strings.ToLower(args[0]), ".")
				if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
					return nil, c.Errf("federation %s: DNS domain %q: %s", key, args[0], strings.Join(errs, "; "))
				}
				if _, dup := f.federations[name]; dup {
					return nil, c.Errf("federation %s given twice", key)
				}
				f.federations[name] = domain + "."
			}
		}
	}
	if len(f.federations) == 0 {
		return nil, c.Err("no federation: want lines \"<federation-name> <dns-domain>\" in the federation block")
	}
	return f, nil
}
