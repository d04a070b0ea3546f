// Package chaos is a workload and its invariants for fault tests: a stream
// of creates, updates, deletes and scales through the federation, each
// retried until acknowledged, the state the federation must end up in,
// and a check of that state in the federation and every member. The HA
// e2e test and the soak (make soak) drive it while they inject faults.
package chaos

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// Deployment is the one Deployment the workload scales.
const Deployment = "web"

// kind is one kind of data object the workload writes: its value is one
// string, which must reach every member.
type kind struct {
	name string
	// create, update and delete write through the federation.
	create func(ctx context.Context, c kubernetes.Interface, ns, name, value string) error
	update func(ctx context.Context, c kubernetes.Interface, ns, name, value string) error
	delete func(ctx context.Context, c kubernetes.Interface, ns, name string) error
	// list reads name -> value, of every object (selector "") or of the
	// member copies the federation manages.
	list func(ctx context.Context, c kubernetes.Interface, ns, selector string) (map[string]string, error)
}

var kinds = []kind{
	{
		name: "configmap",
		create: func(ctx context.Context, c kubernetes.Interface, ns, name, value string) error {
			_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"v": value}}, metav1.CreateOptions{})
			return err
		},
		update: func(ctx context.Context, c kubernetes.Interface, ns, name, value string) error {
			cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cm.Data = map[string]string{"v": value}
			_, err = c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
			return err
		},
		delete: func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			return c.CoreV1().ConfigMaps(ns).Delete(ctx, name, metav1.DeleteOptions{})
		},
		list: func(ctx context.Context, c kubernetes.Interface, ns, selector string) (map[string]string, error) {
			l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return nil, err
			}
			out := map[string]string{}
			for _, o := range l.Items {
				if o.Name != "kube-root-ca.crt" {
					out[o.Name] = o.Data["v"]
				}
			}
			return out, nil
		},
	},
	{
		name: "secret",
		create: func(ctx context.Context, c kubernetes.Interface, ns, name, value string) error {
			_, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string][]byte{"v": []byte(value)}}, metav1.CreateOptions{})
			return err
		},
		update: func(ctx context.Context, c kubernetes.Interface, ns, name, value string) error {
			s, err := c.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Data = map[string][]byte{"v": []byte(value)}
			_, err = c.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{})
			return err
		},
		delete: func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			return c.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{})
		},
		list: func(ctx context.Context, c kubernetes.Interface, ns, selector string) (map[string]string, error) {
			l, err := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return nil, err
			}
			out := map[string]string{}
			for _, o := range l.Items {
				out[o.Name] = string(o.Data["v"])
			}
			return out, nil
		},
	},
}

// Counts are the writes acknowledged, by operation.
type Counts struct {
	Creates, Updates, Deletes, Scales int
}

// Total is the number of acknowledged writes.
func (c Counts) Total() int { return c.Creates + c.Updates + c.Deletes + c.Scales }

// Workload writes objects of every kind in one namespace through the
// federation's client.
type Workload struct {
	client    kubernetes.Interface
	namespace string
	rnd       *rand.Rand
	// minLive is how many objects of each kind the workload keeps at
	// least.
	minLive int

	mu       sync.Mutex
	live     map[string]map[string]string // kind -> name -> value
	replicas int32
	counts   Counts
	seq      int

	// gate is held for each step, and by Pause.
	gate         sync.Mutex
	stopCh, done chan struct{}
	err          error
}

// New creates the namespace's Deployment and returns a workload that has
// not started. client should time out its requests (a few seconds): a
// request lost to a fault is retried.
func New(ctx context.Context, client kubernetes.Interface, namespace string, seed int64, minLive int) (*Workload, error) {
	w := &Workload{client: client, namespace: namespace, rnd: rand.New(rand.NewSource(seed)), minLive: minLive,
		live: map[string]map[string]string{}, replicas: 2, stopCh: make(chan struct{}), done: make(chan struct{})}
	for _, k := range kinds {
		w.live[k.name] = map[string]string{}
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: Deployment, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(w.replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": Deployment}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": Deployment}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	err := acknowledged(ctx, func(ctx context.Context) error {
		_, err := client.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{})
		return err
	}, apierrors.IsAlreadyExists)
	if err != nil {
		return nil, fmt.Errorf("create deployment %s: %w", Deployment, err)
	}
	return w, nil
}

// Start writes until Stop.
func (w *Workload) Start() {
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stopCh:
				return
			default:
			}
			w.gate.Lock()
			err := w.step(context.Background())
			w.gate.Unlock()
			if err != nil {
				w.err = err
				return
			}
		}
	}()
}

// Stop waits for the operation under way to be acknowledged, stops, and
// returns the first write that never was.
func (w *Workload) Stop() error {
	close(w.stopCh)
	<-w.done
	return w.err
}

// Pause waits for the operation under way to be acknowledged and holds
// the next until Resume: a quiet point, to check the invariants at.
func (w *Workload) Pause() { w.gate.Lock() }

// Resume lets the workload write again after Pause.
func (w *Workload) Resume() { w.gate.Unlock() }

// Counts are the writes acknowledged so far.
func (w *Workload) Counts() Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts
}

// step does one operation on a kind chosen at random.
func (w *Workload) step(ctx context.Context) error {
	k := kinds[w.rnd.Intn(len(kinds))]
	w.mu.Lock()
	names := make([]string, 0, len(w.live[k.name]))
	for n := range w.live[k.name] {
		names = append(names, n)
	}
	w.mu.Unlock()
	sort.Strings(names)
	r := w.rnd.Intn(100)
	switch {
	case len(names) < w.minLive || r < 40:
		w.seq++
		return w.create(ctx, k, fmt.Sprintf("%s-%d", k.name, w.seq))
	case r < 75:
		return w.update(ctx, k, names[w.rnd.Intn(len(names))])
	case r < 95:
		return w.delete(ctx, k, names[w.rnd.Intn(len(names))])
	default:
		return w.scale(ctx, int32(1+w.rnd.Intn(6)))
	}
}

// acknowledged retries op until it succeeds, or until a retry finds that
// an earlier, unanswered attempt did (done), for at most a minute.
func acknowledged(ctx context.Context, op func(ctx context.Context) error, done func(error) bool) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	retried := false
	for {
		err := op(ctx)
		if err == nil || (retried && done(err)) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("not acknowledged within a minute: %w", err)
		}
		retried = true
		time.Sleep(200 * time.Millisecond)
	}
}

func never(error) bool { return false }

func (w *Workload) create(ctx context.Context, k kind, name string) error {
	const value = "v0"
	if err := acknowledged(ctx, func(ctx context.Context) error { return k.create(ctx, w.client, w.namespace, name, value) }, apierrors.IsAlreadyExists); err != nil {
		return fmt.Errorf("create %s %s: %w", k.name, name, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live[k.name][name] = value
	w.counts.Creates++
	return nil
}

func (w *Workload) update(ctx context.Context, k kind, name string) error {
	w.mu.Lock()
	value := fmt.Sprintf("v%d", w.counts.Updates+1)
	w.mu.Unlock()
	err := acknowledged(ctx, func(ctx context.Context) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error { return k.update(ctx, w.client, w.namespace, name, value) })
	}, never)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", k.name, name, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live[k.name][name] = value
	w.counts.Updates++
	return nil
}

func (w *Workload) delete(ctx context.Context, k kind, name string) error {
	if err := acknowledged(ctx, func(ctx context.Context) error { return k.delete(ctx, w.client, w.namespace, name) }, apierrors.IsNotFound); err != nil {
		return fmt.Errorf("delete %s %s: %w", k.name, name, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.live[k.name], name)
	w.counts.Deletes++
	return nil
}

func (w *Workload) scale(ctx context.Context, replicas int32) error {
	deployments := w.client.AppsV1().Deployments(w.namespace)
	err := acknowledged(ctx, func(ctx context.Context) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			s, err := deployments.GetScale(ctx, Deployment, metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Spec.Replicas = replicas
			_, err = deployments.UpdateScale(ctx, Deployment, s, metav1.UpdateOptions{})
			return err
		})
	}, never)
	if err != nil {
		return fmt.Errorf("scale %s to %d: %w", Deployment, replicas, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.replicas = replicas
	w.counts.Scales++
	return nil
}
