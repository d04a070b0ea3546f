package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/kfederation/federation/pkg/kubefed/corefile"
)

// Where a member's CoreDNS keeps its Corefile (kubeadm's layout, and that
// of most distributions).
const (
	CoreDNSNamespace = metav1.NamespaceSystem
	CoreDNSConfigMap = "coredns"
	CorefileKey      = "Corefile"
)

// nodeListPageSize is how many nodes one list request returns.
const nodeListPageSize = 500

// CorefileEdit is what UpdateCorefile found and did.
type CorefileEdit struct {
	// Missing says why there is no Corefile to edit ("" if there is one).
	Missing string
	// Before is the Corefile as read, and Result the edit of it.
	Before string
	Result corefile.Result
	// EditErr is why the editor left the Corefile as it was.
	EditErr error
	// Updated says the ConfigMap was written.
	Updated bool
}

// CorefileLocation names the ConfigMap, for messages.
func CorefileLocation(cluster string) string {
	return fmt.Sprintf("ConfigMap %s/%s of %s", CoreDNSNamespace, CoreDNSConfigMap, cluster)
}

// UpdateCorefile edits the Corefile of the member's CoreDNS with edit and,
// if write and it changed, writes it back. The update carries the
// resourceVersion that was read, so a concurrent change is never
// overwritten: on a conflict it reads and edits again, a few times.
func UpdateCorefile(ctx context.Context, client kubernetes.Interface, write bool, edit func(string) (corefile.Result, error)) (CorefileEdit, error) {
	configMaps := client.CoreV1().ConfigMaps(CoreDNSNamespace)
	var out CorefileEdit
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		out = CorefileEdit{}
		cm, err := configMaps.Get(ctx, CoreDNSConfigMap, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			out.Missing = fmt.Sprintf("there is no ConfigMap %s/%s", CoreDNSNamespace, CoreDNSConfigMap)
			return nil
		}
		if err != nil {
			return fmt.Errorf("get ConfigMap %s/%s: %w", CoreDNSNamespace, CoreDNSConfigMap, err)
		}
		text, ok := cm.Data[CorefileKey]
		if !ok {
			out.Missing = fmt.Sprintf("ConfigMap %s/%s has no key %s", CoreDNSNamespace, CoreDNSConfigMap, CorefileKey)
			return nil
		}
		out.Before = text
		out.Result, out.EditErr = edit(text)
		if out.EditErr != nil || !out.Result.Changed || !write {
			return nil
		}
		cm.Data[CorefileKey] = out.Result.Corefile
		if _, err := configMaps.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update ConfigMap %s/%s: %w", CoreDNSNamespace, CoreDNSConfigMap, err)
		}
		out.Updated = true
		return nil
	})
	if apierrors.IsConflict(err) {
		err = fmt.Errorf("%w (it kept changing while kubefed edited it; try again)", err)
	}
	return out, err
}

// PrintDiff writes the changed lines of a Corefile, indented.
func PrintDiff(w io.Writer, before, after string) {
	for _, l := range corefile.Diff(before, after) {
		fmt.Fprintln(w, "   "+l)
	}
}

// Topology is how the member's nodes spread over zones and regions.
type Topology struct {
	Nodes   int
	Zones   map[string]int
	Regions map[string]int
}

// MemberTopology counts the member's nodes by their zone and region
// labels; like the federation's cluster controller, it takes the
// deprecated beta labels where the GA ones are missing.
func MemberTopology(ctx context.Context, client kubernetes.Interface) (Topology, error) {
	t := Topology{Zones: map[string]int{}, Regions: map[string]int{}}
	opts := metav1.ListOptions{Limit: nodeListPageSize}
	for {
		list, err := client.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return t, fmt.Errorf("list nodes: %w", err)
		}
		for i := range list.Items {
			l := list.Items[i].Labels
			t.Nodes++
			if z := firstLabel(l, corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone); z != "" {
				t.Zones[z]++
			}
			if r := firstLabel(l, corev1.LabelTopologyRegion, corev1.LabelFailureDomainBetaRegion); r != "" {
				t.Regions[r]++
			}
		}
		if list.Continue == "" {
			return t, nil
		}
		opts.Continue = list.Continue
	}
}

func firstLabel(l map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := l[k]; v != "" {
			return v
		}
	}
	return ""
}

// mostCommon is the value counted most often, the alphabetically first
// among equally common ones; "" for none.
func mostCommon(counts map[string]int) string {
	best, n := "", 0
	for v, c := range counts {
		if c > n || (c == n && v < best) {
			best, n = v, c
		}
	}
	return best
}

// describe lists counted values, most common first: "a (3 nodes), b (1 node)".
func describe(counts map[string]int) string {
	values := make([]string, 0, len(counts))
	for v := range counts {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool {
		if counts[values[i]] != counts[values[j]] {
			return counts[values[i]] > counts[values[j]]
		}
		return values[i] < values[j]
	})
	parts := make([]string, len(values))
	for i, v := range values {
		unit := "nodes"
		if counts[v] == 1 {
			unit = "node"
		}
		parts[i] = fmt.Sprintf("%s (%d %s)", v, counts[v], unit)
	}
	return strings.Join(parts, ", ")
}

// dnsDomain is the DNS suffix of the federated Services' names.
func (o *JoinOptions) dnsDomain() string {
	d := o.ServiceDNSSuffix
	if d == "" {
		d = o.DNSZoneName
	}
	return strings.ToLower(strings.TrimSuffix(d, "."))
}

// configureClusterDNS adds the federation to the federation plugin's
// stanza in the Corefile of the member's CoreDNS, so that its pods resolve
// <service>.<namespace>.<federation>.svc.<cluster domain>. What keeps it
// from doing so (no CoreDNS ConfigMap, a Corefile it cannot edit safely)
// is a note, not a failure: the cluster is joined all the same.
func (o *JoinOptions) configureClusterDNS(ctx context.Context, alreadyJoined bool) error {
	if o.DNSZoneName == "" {
		if !alreadyJoined {
			fmt.Fprintf(o.Out, "Note: the cluster DNS of %s was left alone (no --dns-zone-name); to let its pods resolve federated Services as <service>.<namespace>.%s.svc.<cluster domain>, run kubefed join again with --dns-zone-name=<the federation's DNS zone>\n",
				o.ClusterName, o.FederationName)
		}
		return nil
	}
	settings := corefile.Settings{Federation: o.FederationName, Domain: o.dnsDomain()}
	topo, err := MemberTopology(ctx, o.MemberClient)
	if err != nil {
		return o.dnsFailed(o.Member.Explain(err))
	}
	settings.Zone, settings.Region = mostCommon(topo.Zones), mostCommon(topo.Regions)
	if len(topo.Zones) > 1 {
		fmt.Fprintf(o.Out, "Note: the nodes of %s are in zones %s; the federation plugin takes one zone, so the Corefile names the most common, %s\n",
			o.ClusterName, describe(topo.Zones), settings.Zone)
	}
	if len(topo.Regions) > 1 {
		fmt.Fprintf(o.Out, "Note: the nodes of %s are in regions %s; the Corefile names the most common, %s\n",
			o.ClusterName, describe(topo.Regions), settings.Region)
	}
	for _, m := range []struct {
		key, label string
		value      *string
	}{
		{"zone", corev1.LabelTopologyZone, &settings.Zone},
		{"region", corev1.LabelTopologyRegion, &settings.Region},
	} {
		why := fmt.Sprintf("no node of %s has the label %s", o.ClusterName, m.label)
		if v := *m.value; v != "" {
			// The plugin refuses a Corefile with another kind of name;
			// the federation's DNS names hold it in lower case.
			*m.value = strings.ToLower(v)
			if msgs := validation.IsDNS1123Label(*m.value); len(msgs) > 0 {
				why = fmt.Sprintf("the %s %q of the nodes of %s is not a DNS label (%s)", m.key, v, o.ClusterName, strings.Join(msgs, "; "))
				*m.value = ""
			}
		}
		if *m.value == "" {
			fmt.Fprintf(o.Out, "Note: %s, so the federation plugin's stanza has no %s line; the plugin needs the zone and the region to answer with a CNAME to the Service's %s name: add \"%s <%s>\" to the stanza by hand\n",
				why, m.key, m.key, m.key, m.key)
		}
	}

	where := CorefileLocation(o.ClusterName)
	edit, err := UpdateCorefile(ctx, o.MemberClient, !o.DryRun, func(text string) (corefile.Result, error) {
		return corefile.Join(text, settings)
	})
	if err != nil {
		return o.dnsFailed(o.Member.Explain(err))
	}
	byHand := func(why string) {
		fmt.Fprintf(o.Out, "Note: %s, so the cluster DNS of %s was left alone. For its pods to resolve federated Services, add this to the server block of its Corefile that has the kubernetes plugin (after \"federation\", the cluster domain as on the kubernetes line), and run a CoreDNS with the federation plugin (see docs/admin-guide.md):\n", why, o.ClusterName)
		for _, l := range strings.Split(corefile.Snippet("", settings), "\n") {
			fmt.Fprintln(o.Out, "    "+l)
		}
	}
	switch {
	case edit.Missing != "":
		byHand(edit.Missing + " in " + o.ClusterName)
	case errors.Is(edit.EditErr, corefile.ErrNoKubernetes):
		byHand(fmt.Sprintf("the Corefile in %s has no server block with the kubernetes plugin", where))
	case edit.EditErr != nil:
		byHand(fmt.Sprintf("kubefed cannot edit the Corefile in %s safely (%v)", where, edit.EditErr))
	case !edit.Result.Changed:
		fmt.Fprintf(o.Out, "The Corefile in %s already has federation %s (%s); unchanged\n", where, o.FederationName, settings.Domain)
	default:
		verb := "Updated"
		if o.DryRun {
			verb = "Would change"
		}
		fmt.Fprintf(o.Out, "%s the Corefile in %s:\n", verb, where)
		PrintDiff(o.Out, edit.Before, edit.Result.Corefile)
		fmt.Fprintf(o.Out, "CoreDNS in %s must run an image with the federation plugin (see docs/admin-guide.md): one without it refuses this Corefile and does not start.\n", o.ClusterName)
		if edit.Result.Reload {
			fmt.Fprintln(o.Out, "CoreDNS reloads the Corefile by itself (reload plugin) once the kubelet has updated the mounted ConfigMap, within about two minutes.")
		} else {
			fmt.Fprintf(o.Out, "The Corefile has no reload plugin: restart CoreDNS to load it: %s -n %s rollout restart deployment coredns\n", o.kubectl(o.ClusterContext), CoreDNSNamespace)
		}
	}
	for _, n := range edit.Result.Notes {
		fmt.Fprintf(o.Out, "Note: Corefile in %s, %s\n", where, n)
	}
	return nil
}

// dnsFailed says that the cluster is joined even though its DNS is not
// configured.
func (o *JoinOptions) dnsFailed(err error) error {
	if o.DryRun {
		return err
	}
	return fmt.Errorf("%w\nCluster %s is joined, but the federation plugin was not configured in its CoreDNS; run this command again to retry", err, o.ClusterName)
}
