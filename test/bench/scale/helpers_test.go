package scale

// The benchmark's kinds and its helpers beside test/bench/benchload's.
// Member watches are scoped to a phase: with fifty members, watches left
// open from phase to phase would soon outnumber the federation's own.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

// kind is one kind of object the benchmark creates.
type kind struct {
	name, kind, resource string
	create               func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error
	// copyAnnotations are the annotations the federation puts on this
	// kind's member copies, besides the user's.
	copyAnnotations map[string]string
	deleteAll       func(ctx context.Context, c kubernetes.Interface, ns string) error
	count           func(ctx context.Context, c kubernetes.Interface, ns string) (int, error)
}

var kinds = []kind{
	{
		name: "ConfigMaps", kind: "ConfigMap", resource: "configmaps",
		create: func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error {
			_, err := c.CoreV1().ConfigMaps(meta.Namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": meta.Name}}, metav1.CreateOptions{})
			return err
		},
		// One by one, the benchmark's only: the federation's namespaces
		// hold a ConfigMap of its own.
		deleteAll: func(ctx context.Context, c kubernetes.Interface, ns string) error {
			l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			var names []string
			for _, o := range l.Items {
				if strings.HasPrefix(o.Name, "obj-") {
					names = append(names, o.Name)
				}
			}
			return parallel(len(names), func(i int) error {
				err := c.CoreV1().ConfigMaps(ns).Delete(ctx, names[i], metav1.DeleteOptions{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			})
		},
		count: func(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
			l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			n := 0
			for _, o := range l.Items {
				if strings.HasPrefix(o.Name, "obj-") {
					n++
				}
			}
			return n, nil
		},
	},
	{
		name: "Services", kind: "Service", resource: "services",
		create: func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error {
			_, err := c.CoreV1().Services(meta.Namespace).Create(ctx, &corev1.Service{
				ObjectMeta: meta,
				Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": meta.Name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
			}, metav1.CreateOptions{})
			return err
		},
		copyAnnotations: map[string]string{"federation.k8s.io/generation": "1"},
		deleteAll: func(ctx context.Context, c kubernetes.Interface, ns string) error {
			l, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			return parallel(len(l.Items), func(i int) error {
				err := c.CoreV1().Services(ns).Delete(ctx, l.Items[i].Name, metav1.DeleteOptions{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			})
		},
		count: func(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
			l, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			return len(l.Items), nil
		},
	},
}

// parallel runs do(0..n-1) on benchload.Workers goroutines.
func parallel(n int, do func(i int) error) error {
	idx := make(chan int)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := 0; w < benchload.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				errs[i] = do(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	return errors.Join(errs...)
}

func ensureNamespace(ctx context.Context, b *testing.B, c kubernetes.Interface, name string) {
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
}

// waitNamespaceInMembers waits until a federated namespace reached every
// member, so that timing starts with it in place.
func waitNamespaceInMembers(ctx context.Context, b *testing.B, f *framework.Federation, name string) {
	deadline := time.Now().Add(5 * time.Minute)
	for _, m := range f.Members {
		for {
			if _, err := m.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("namespace %s not in member %s after 5 minutes", name, m.Name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// processes are every process of the run, to tell when the machine is
// quiet.
func processes(f *framework.Federation) []*framework.Process {
	ps := []*framework.Process{f.Etcd.Process, f.APIServer, f.ControllerManager}
	for _, m := range f.Members {
		ps = append(ps, m.Processes()...)
	}
	return ps
}

// settle waits until the processes use less than a fifth of a core over 2
// s, plus 0.75 % of a core per process (at most 90 s): a lean member at
// rest uses about 0.5 %, so fifty of them would never pass the bar of
// three.
func settle(ps []*framework.Process) {
	benchload.WaitQuiet(ps, 2*time.Second, 400*time.Millisecond+time.Duration(len(ps))*15*time.Millisecond, 90*time.Second)
}
