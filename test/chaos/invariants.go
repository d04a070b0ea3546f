package chaos

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	fedclientset "github.com/kfederation/client-go/clientset/versioned"

	"github.com/kfederation/federation/test/framework"
)

// managedBy selects the member copies a federation manages.
const managedBy = "federation.k8s.io/managed-by"

// Member is a member cluster's name and client.
type Member struct {
	Name   string
	Client kubernetes.Interface
}

// Violations lists what is wrong now, each a line: an acknowledged write
// missing (lost) or stale in the federation or a member, a copy that
// should not exist (an orphan), an object not Propagated to every member,
// replicas that do not add up, a federated Deployment status that is not
// the members' sum. Empty means every invariant holds.
func (w *Workload) Violations(ctx context.Context, fed kubernetes.Interface, fedc fedclientset.Interface, members []Member) []string {
	w.mu.Lock()
	live := map[string]map[string]string{}
	for k, objs := range w.live {
		live[k] = map[string]string{}
		for n, v := range objs {
			live[k][n] = v
		}
	}
	replicas := w.replicas
	w.mu.Unlock()

	var v []string
	for _, k := range kinds {
		got, err := k.list(ctx, fed, w.namespace, "")
		if err != nil {
			return []string{fmt.Sprintf("list %ss in the federation: %v", k.name, err)}
		}
		v = append(v, compare("federation", k.name, live[k.name], got)...)
		for _, m := range members {
			got, err := k.list(ctx, m.Client, w.namespace, managedBy)
			if err != nil {
				v = append(v, fmt.Sprintf("list %ss in %s: %v", k.name, m.Name, err))
				continue
			}
			v = append(v, compare(m.Name, k.name, live[k.name], got)...)
		}
	}
	v = append(v, propagated(ctx, fedc, w.namespace, live, len(members))...)
	v = append(v, deploymentViolations(ctx, fed, w.namespace, replicas, members)...)
	return v
}

// deploymentViolations: the members' replicas add up to the federated
// Deployment's, and its federated status is the sum of theirs, every
// replica ready.
func deploymentViolations(ctx context.Context, fed kubernetes.Interface, ns string, replicas int32, members []Member) []string {
	var v []string
	var specSum, statusSum, readySum int32
	for _, m := range members {
		d, err := m.Client.AppsV1().Deployments(ns).Get(ctx, Deployment, metav1.GetOptions{})
		if err != nil {
			v = append(v, fmt.Sprintf("deployment %s in %s: %v", Deployment, m.Name, err))
			continue
		}
		specSum += ptr.Deref(d.Spec.Replicas, 0)
		statusSum += d.Status.Replicas
		readySum += d.Status.ReadyReplicas
	}
	if specSum != replicas {
		v = append(v, fmt.Sprintf("deployment %s: the members' replicas add up to %d, want %d", Deployment, specSum, replicas))
	}
	d, err := fed.AppsV1().Deployments(ns).Get(ctx, Deployment, metav1.GetOptions{})
	if err != nil {
		return append(v, fmt.Sprintf("deployment %s in the federation: %v", Deployment, err))
	}
	if d.Status.Replicas != statusSum || d.Status.ReadyReplicas != readySum || readySum != replicas {
		v = append(v, fmt.Sprintf("deployment %s: federated status %d replicas, %d ready; the members have %d, %d ready; want %d ready",
			Deployment, d.Status.Replicas, d.Status.ReadyReplicas, statusSum, readySum, replicas))
	}
	return v
}

// compare lists how the objects found (name -> value) differ from the
// live ones.
func compare(where, kind string, live, found map[string]string) []string {
	var v []string
	for name, value := range found {
		want, ok := live[name]
		switch {
		case !ok:
			v = append(v, fmt.Sprintf("%s: %s %s should not exist (deleted, or never written): an orphan", where, kind, name))
		case value != want:
			v = append(v, fmt.Sprintf("%s: %s %s has %q, want %q (stale)", where, kind, name, value, want))
		}
	}
	for name := range live {
		if _, ok := found[name]; !ok {
			v = append(v, fmt.Sprintf("%s: %s %s lost", where, kind, name))
		}
	}
	return v
}

// propagated lists the live objects whose Propagation does not say
// Propagated in every member.
func propagated(ctx context.Context, fedc fedclientset.Interface, ns string, live map[string]map[string]string, members int) []string {
	props, err := fedc.FederationV1beta1().Propagations(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{"list propagations: " + err.Error()}
	}
	count := map[string]int{}
	for _, p := range props.Items {
		for _, c := range p.Status.Clusters {
			if c.State == "Propagated" {
				count[p.Name]++
			}
		}
	}
	var v []string
	for k, objs := range live {
		for name := range objs {
			if n := count[k+"."+name]; n != members {
				v = append(v, fmt.Sprintf("%s %s: Propagated in %d of %d members", k, name, n, members))
			}
		}
	}
	return v
}

// Converge checks the invariants every half second until they hold or
// timeout passes, and returns when they first held (zero if they did not)
// and the violations of the last check.
func Converge(ctx context.Context, f *framework.Federation, w *Workload, timeout time.Duration) (time.Time, []string) {
	fedc, err := f.FederationClient()
	if err != nil {
		return time.Time{}, []string{err.Error()}
	}
	var members []Member
	for _, m := range f.Members {
		members = append(members, Member{Name: m.Name, Client: m.Client})
	}
	deadline := time.Now().Add(timeout)
	for {
		v := w.Violations(ctx, f.Client, fedc, members)
		if len(v) == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, v
		}
		time.Sleep(500 * time.Millisecond)
	}
}
