package fakeglbc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/api/compute/v1"
)

// errStaticIPNotFound is returned when an Ingress names a global address
// that does not exist; the user or the federation may still create it.
var errStaticIPNotFound = errors.New("global static IP not found")

// ensureURLMap makes the URL map route as want does. It returns the map's
// URL.
func (c *cloud) ensureURLMap(ctx context.Context, want *compute.UrlMap) (string, error) {
	for range staleRetries {
		um, err := c.svc.UrlMaps.Get(c.project, want.Name).Context(ctx).Do()
		if isNotFound(err) {
			err = c.run(ctx, c.svc.UrlMaps.Insert(c.project, want).Context(ctx))
			if isAlreadyExists(err) {
				continue
			}
			if err != nil {
				return "", fmt.Errorf("insert url map %s: %w", want.Name, err)
			}
			return c.globalLink("urlMaps", want.Name), nil
		}
		if err != nil {
			return "", fmt.Errorf("get url map %s: %w", want.Name, err)
		}
		if sameURLMap(um, want) {
			return c.globalLink("urlMaps", want.Name), nil
		}
		um.DefaultService, um.HostRules, um.PathMatchers = want.DefaultService, want.HostRules, want.PathMatchers
		um.ForceSendFields = append(um.ForceSendFields, "HostRules", "PathMatchers")
		err = c.run(ctx, c.svc.UrlMaps.Update(c.project, want.Name, um).Context(ctx))
		if isStale(err) || isNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("update url map %s: %w", want.Name, err)
		}
		return c.globalLink("urlMaps", want.Name), nil
	}
	return "", fmt.Errorf("url map %s: still changing under us after %d attempts", want.Name, staleRetries)
}

// ensureTargetProxy makes the target HTTP proxy point at urlMap. It
// returns the proxy's URL.
func (c *cloud) ensureTargetProxy(ctx context.Context, name, urlMap string) (string, error) {
	tp, err := c.svc.TargetHttpProxies.Get(c.project, name).Context(ctx).Do()
	switch {
	case isNotFound(err):
		err = c.run(ctx, c.svc.TargetHttpProxies.Insert(c.project, &compute.TargetHttpProxy{Name: name, UrlMap: urlMap}).Context(ctx))
		if err = ignore(err, isAlreadyExists); err != nil {
			return "", fmt.Errorf("insert target http proxy %s: %w", name, err)
		}
	case err != nil:
		return "", fmt.Errorf("get target http proxy %s: %w", name, err)
	case !sameLink(tp.UrlMap, urlMap):
		ref := &compute.UrlMapReference{UrlMap: urlMap}
		if err := c.run(ctx, c.svc.TargetHttpProxies.SetUrlMap(c.project, name, ref).Context(ctx)); err != nil {
			return "", fmt.Errorf("set url map of target http proxy %s: %w", name, err)
		}
	}
	return c.globalLink("targetHttpProxies", name), nil
}

// staticIP returns the address of the global address named name.
func (c *cloud) staticIP(ctx context.Context, name string) (string, error) {
	a, err := c.svc.GlobalAddresses.Get(c.project, name).Context(ctx).Do()
	if isNotFound(err) {
		return "", fmt.Errorf("%w: %q in project %s", errStaticIPNotFound, name, c.project)
	}
	if err != nil {
		return "", fmt.Errorf("get global address %s: %w", name, err)
	}
	return a.Address, nil
}

// ensureForwardingRule makes the HTTP forwarding rule send port 80 of ip
// ("" for an ephemeral address) to proxy, and returns the rule's address.
// A rule can change neither address nor port, so one on another static
// address is deleted and made again, as GLBC does. A rule is never moved
// off an address when the Ingress stops asking for one: its address stays
// until the rule goes.
func (c *cloud) ensureForwardingRule(ctx context.Context, name, proxy, ip string) (string, error) {
	fr, err := c.svc.GlobalForwardingRules.Get(c.project, name).Context(ctx).Do()
	if err != nil && !isNotFound(err) {
		return "", fmt.Errorf("get forwarding rule %s: %w", name, err)
	}
	if err == nil && ((ip != "" && fr.IPAddress != ip) || !sameLink(fr.Target, proxy)) {
		if err := c.deleteForwardingRule(ctx, name); err != nil {
			return "", err
		}
		fr = nil
	}
	if err != nil || fr == nil {
		err = c.run(ctx, c.svc.GlobalForwardingRules.Insert(c.project, &compute.ForwardingRule{
			Name:                name,
			IPAddress:           ip,
			IPProtocol:          "TCP",
			PortRange:           "80-80",
			Target:              proxy,
			LoadBalancingScheme: "EXTERNAL",
		}).Context(ctx))
		if err = ignore(err, isAlreadyExists); err != nil {
			return "", fmt.Errorf("insert forwarding rule %s: %w", name, err)
		}
		if fr, err = c.svc.GlobalForwardingRules.Get(c.project, name).Context(ctx).Do(); err != nil {
			return "", fmt.Errorf("get forwarding rule %s: %w", name, err)
		}
	}
	return fr.IPAddress, nil
}

func (c *cloud) deleteForwardingRule(ctx context.Context, name string) error {
	err := c.run(ctx, c.svc.GlobalForwardingRules.Delete(c.project, name).Context(ctx))
	if err = ignore(err, isNotFound); err != nil {
		return fmt.Errorf("delete forwarding rule %s: %w", name, err)
	}
	return nil
}

// urlMapServices returns the names of the backend services a URL map routes
// to, none when it does not exist.
func (c *cloud) urlMapServices(ctx context.Context, name string) ([]string, error) {
	um, err := c.svc.UrlMaps.Get(c.project, name).Context(ctx).Do()
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get url map %s: %w", name, err)
	}
	return services(um), nil
}

// deleteFrontend deletes a load balancer's forwarding rule, proxy and URL
// map, in the order the API requires (each is in use by the one before).
// It never touches the address: the user or the federation owns it.
func (c *cloud) deleteFrontend(ctx context.Context, forwardingRule, proxy, urlMap string) error {
	if err := c.deleteForwardingRule(ctx, forwardingRule); err != nil {
		return err
	}
	err := c.run(ctx, c.svc.TargetHttpProxies.Delete(c.project, proxy).Context(ctx))
	if err = ignore(err, isNotFound); err != nil {
		return fmt.Errorf("delete target http proxy %s: %w", proxy, err)
	}
	err = c.run(ctx, c.svc.UrlMaps.Delete(c.project, urlMap).Context(ctx))
	if err = ignore(err, isNotFound); err != nil {
		return fmt.Errorf("delete url map %s: %w", urlMap, err)
	}
	return nil
}

// deleteMemberResources deletes the member's firewall rule and instance
// group once it has no Ingress left, as GLBC's garbage collection does. A
// group some backend service still lists is refused as in use, and stays:
// deleted is false then.
func (c *cloud) deleteMemberResources(ctx context.Context, firewall, group string) (deleted bool, err error) {
	err = c.run(ctx, c.svc.Firewalls.Delete(c.project, firewall).Context(ctx))
	if err = ignore(err, isNotFound); err != nil {
		return false, fmt.Errorf("delete firewall %s: %w", firewall, err)
	}
	err = c.run(ctx, c.svc.InstanceGroups.Delete(c.project, c.zone, group).Context(ctx))
	if isInUse(err) {
		return false, nil
	}
	if err = ignore(err, isNotFound); err != nil {
		return false, fmt.Errorf("delete instance group %s: %w", group, err)
	}
	return true, nil
}
