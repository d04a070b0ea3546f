package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Annotations and names GCE's ingress controller uses, which the cloud
// simulator honours as that controller does.
const (
	// GlobalStaticIPAnnotation names a reserved global address for an
	// Ingress; every cluster's load balancer for it then has that address.
	GlobalStaticIPAnnotation = "kubernetes.io/ingress.global-static-ip-name"
	// URLMapAnnotation is where the simulator records the name of the load
	// balancer it made, which embeds the cluster's ingress UID.
	URLMapAnnotation = "ingress.kubernetes.io/url-map"
	// IngressUIDConfigMap in kube-system holds the cluster's ingress UID
	// under the key "uid"; the federation makes it the same everywhere so
	// that all members share one global load balancer.
	IngressUIDConfigMap = "ingress-uid"
)

// CloudSimulator plays a member's cloud provider, as a test fixture: it
// gives Services of type LoadBalancer and Ingresses an address in
// status.loadBalancer. It never runs in a product binary.
type CloudSimulator struct {
	cluster string
	client  kubernetes.Interface
	// leaveGCE leaves Ingresses of GCE's class to the member's stand-in
	// for GCE's ingress controller (Member.StartGLBC).
	leaveGCE atomic.Bool
}

// StartCloudSimulator runs the simulator for a member until ctx ends.
func StartCloudSimulator(ctx context.Context, cluster string, client kubernetes.Interface) *CloudSimulator {
	s := &CloudSimulator{cluster: cluster, client: client}
	factory := informers.NewSharedInformerFactory(client, 0)
	svcs := factory.Core().V1().Services().Informer()
	ings := factory.Networking().V1().Ingresses().Informer()
	handle := func(sync func(context.Context, interface{}) error) cache.ResourceEventHandler {
		f := func(obj interface{}) {
			go func() {
				// Retry until it sticks: a write may conflict with the
				// member's own controllers.
				_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
					if err := sync(ctx, obj); err != nil {
						klog.V(2).InfoS("Cloud simulator retrying", "cluster", cluster, "err", err)
						return false, nil
					}
					return true, nil
				})
			}()
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: f, UpdateFunc: func(_, o interface{}) { f(o) }}
	}
	_, _ = svcs.AddEventHandler(handle(s.syncService))
	_, _ = ings.AddEventHandler(handle(s.syncIngress))
	factory.Start(ctx.Done())
	return s
}

// address picks a documentation-range address (never routed) from a hash,
// so that the same input always gets the same address.
func address(prefix, seed string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(seed))
	return fmt.Sprintf("%s.%d", prefix, h.Sum32()%250+1)
}

func (s *CloudSimulator) syncService(ctx context.Context, obj interface{}) error {
	svc, ok := obj.(*corev1.Service)
	if !ok || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	ip := address("203.0.113", s.cluster+"/"+svc.Namespace+"/"+svc.Name)
	if len(svc.Status.LoadBalancer.Ingress) == 1 && svc.Status.LoadBalancer.Ingress[0].IP == ip {
		return nil
	}
	cur, err := s.client.CoreV1().Services(svc.Namespace).Get(ctx, svc.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cur.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	_, err = s.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

// isGCE says ing is for GCE's ingress controller: class gce by
// annotation, no class at all, or an IngressClass of that controller.
func (s *CloudSimulator) isGCE(ctx context.Context, ing *networkingv1.Ingress) bool {
	if class, ok := ing.Annotations["kubernetes.io/ingress.class"]; ok {
		return class == "gce"
	}
	if ing.Spec.IngressClassName == nil {
		return true
	}
	class, err := s.client.NetworkingV1().IngressClasses().Get(ctx, *ing.Spec.IngressClassName, metav1.GetOptions{})
	return err == nil && class.Spec.Controller == "k8s.io/ingress-gce"
}

// ingressUID returns the cluster's ingress UID, creating it as GCE's
// ingress controller does when the cluster has none.
func (s *CloudSimulator) ingressUID(ctx context.Context) (string, error) {
	cm, err := s.client.CoreV1().ConfigMaps("kube-system").Get(ctx, IngressUIDConfigMap, metav1.GetOptions{})
	if err == nil {
		return cm.Data["uid"], nil
	}
	if !apierrors.IsNotFound(err) {
		return "", err
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	cm = &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: IngressUIDConfigMap, Namespace: "kube-system"},
		Data:       map[string]string{"uid": hex.EncodeToString(b)},
	}
	if _, err := s.client.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	return s.ingressUID(ctx)
}

func (s *CloudSimulator) syncIngress(ctx context.Context, obj interface{}) error {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok || (s.leaveGCE.Load() && s.isGCE(ctx, ing)) {
		return nil
	}
	uid, err := s.ingressUID(ctx)
	if err != nil {
		return err
	}
	// A reserved global address is the same in every cluster; otherwise
	// each cluster's load balancer gets its own.
	ip := address("192.0.2", s.cluster+"/"+ing.Namespace+"/"+ing.Name)
	if name := ing.Annotations[GlobalStaticIPAnnotation]; name != "" {
		ip = address("198.51.100", name)
	}
	urlMap := fmt.Sprintf("k8s-um-%s-%s--%s", ing.Namespace, ing.Name, uid)
	if ing.Annotations[URLMapAnnotation] == urlMap && len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == ip {
		return nil
	}
	cur, err := s.client.NetworkingV1().Ingresses(ing.Namespace).Get(ctx, ing.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.Annotations[URLMapAnnotation] != urlMap {
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[URLMapAnnotation] = urlMap
		if cur, err = s.client.NetworkingV1().Ingresses(ing.Namespace).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	cur.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
	_, err = s.client.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}
