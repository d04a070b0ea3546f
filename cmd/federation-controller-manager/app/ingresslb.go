package app

import (
	"context"
	"fmt"
	"os"

	"k8s.io/klog/v2"

	"github.com/kfederation/federation/cmd/federation-controller-manager/app/options"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/ingresslb"
	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/pkg/googlecloud/gce"
)

// startIngressLB returns the start function of the Ingress load balancer
// controller. With --cloud-provider=gce it holds GCE Ingresses back from
// members until their address and the members' UID are ready (it is the
// Ingress sync's gate); without it, it only takes its finalizer off
// deleted Ingresses.
func startIngressLB(o *options.Options) startFunc {
	return func(ctx context.Context, cctx *controller.Context) error {
		if o.CloudProvider != "gce" {
			klog.FromContext(ctx).Info("Ingresses of class gce are propagated without one global load balancer: no --cloud-provider=gce", "controller", ingresslb.Name)
			return releaseIngressLB(o)(ctx, cctx)
		}
		f, err := os.Open(o.CloudConfig)
		if err != nil {
			return fmt.Errorf("--cloud-config: %w", err)
		}
		defer f.Close()
		cloud, err := gce.NewFromConfig(ctx, f)
		if err != nil {
			return err
		}
		c := ingresslb.New(ctx, cctx, cloud, ingresslb.Options{ClasslessIsGCE: true})
		cctx.RegisterGate(federatedtypes.Ingress().Name, c)
		go c.Run(ctx, 2)
		return nil
	}
}

// releaseIngressLB stands in for the controller turned off: it takes its
// finalizer off deleted Ingresses, leaving their addresses.
func releaseIngressLB(o *options.Options) startFunc {
	return func(ctx context.Context, cctx *controller.Context) error {
		go ingresslb.New(ctx, cctx, nil, ingresslb.Options{}).Run(ctx, 1)
		return nil
	}
}
