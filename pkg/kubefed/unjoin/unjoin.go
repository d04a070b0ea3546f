// Package unjoin implements `kubefed unjoin`: it removes a cluster from the
// federation (its Cluster object and credential Secret) and what kubefed
// join created in the cluster. The objects the federation propagated there
// stay, unless --delete-member-objects asks to delete them too.
package unjoin

import (
	"time"

	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	fedclientset "github.com/kfederation/client-go/clientset/versioned"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/pkg/kubefed/clioptions"
	"github.com/kfederation/federation/pkg/kubefed/corefile"
	"github.com/kfederation/federation/pkg/kubefed/join"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

var (
	unjoinLong = `Remove a cluster from a federation.

In the federation (context --host-cluster-context), unjoin deletes the Cluster
CLUSTER_NAME and its credential Secret. In the cluster (context
--cluster-context, default CLUSTER_NAME), it deletes what kubefed join created:
the ClusterRoleBinding, the ClusterRole, the ServiceAccount and its token
Secret, and the namespace --federation-system-namespace if join created it and
nothing else uses it. From the Corefile of the cluster's CoreDNS (ConfigMap
kube-system/coredns) it removes the lines join added for the federation (those
ending in "# added by kubefed join"), and the federation plugin's stanza if join
created it. Objects and lines of the cluster that join did not create are never
deleted.

The objects the federation propagated to the cluster (labelled
federation.k8s.io/managed-by=<federation-name>) stay and keep running, no
longer updated by the federation, unless --delete-member-objects=true. That
also deletes the namespaces the federation created or adopted there, with
everything in them, except default and the kube-* namespaces.`

	unjoinExample = `  # Remove cluster us-central1-a; what the federation put there keeps running
  kubefed unjoin us-central1-a --host-cluster-context=federation-cluster

  # Remove it, and delete every object the federation put there
  kubefed unjoin us-central1-a --host-cluster-context=federation-cluster --delete-member-objects=true`
)

// protectedNamespaces are never deleted, even when the federation adopted
// them: they belong to the cluster itself.
var protectedNamespaces = map[string]bool{
	"default":         true,
	"kube-system":     true,
	"kube-public":     true,
	"kube-node-lease": true,
}

// UnjoinOptions are the inputs of `kubefed unjoin`.
type UnjoinOptions struct {
	// ClusterName is the Cluster object to remove.
	ClusterName string
	// HostClusterContext is the kubeconfig context of the federation's API.
	HostClusterContext string
	// ClusterContext is the kubeconfig context of the member.
	ClusterContext string
	// FederationSystemNamespace is where join put the ServiceAccount.
	FederationSystemNamespace string
	// SecretName is the credential Secret, when no Cluster names it.
	SecretName string
	// FederationName is the federation-controller-manager's
	// --federation-name.
	FederationName string
	// DeleteMemberObjects deletes what the federation propagated to the
	// member, instead of leaving it running.
	DeleteMemberObjects bool
	// Wait waits, up to Timeout, for the namespace unjoin deletes in the
	// member to be gone, so that kubefed join can follow at once.
	Wait    bool
	Timeout time.Duration

	// Clients and targets, built by Run from the kubeconfig unless set
	// (tests set them).
	FederationClient fedclientset.Interface
	FederationKube   kubernetes.Interface
	MemberClient     kubernetes.Interface
	MemberDynamic    dynamic.Interface
	Federation       clioptions.Target
	Member           clioptions.Target

	clioptions.IOStreams

	kubeconfig     *clioptions.Kubeconfig
	kubeconfigPath string
	// contextDerived says --cluster-context defaulted to the cluster name.
	contextDerived bool
}

// NewUnjoinOptions returns the defaults.
func NewUnjoinOptions(streams clioptions.IOStreams) *UnjoinOptions {
	return &UnjoinOptions{
		FederationSystemNamespace: federationv1beta1.FederationSystemNamespace,
		FederationName:            join.DefaultFederationName,
		Wait:                      true,
		Timeout:                   DefaultTimeout,
		IOStreams:                 streams,
	}
}

// NewCmdUnjoin returns the unjoin command.
func NewCmdUnjoin(streams clioptions.IOStreams) *cobra.Command {
	o := NewUnjoinOptions(streams)
	cmd := &cobra.Command{
		Use:                   "unjoin CLUSTER_NAME --host-cluster-context=CONTEXT [--cluster-context=CONTEXT] [--delete-member-objects=false]",
		DisableFlagsInUseLine: true,
		Short:                 "Remove a cluster from a federation",
		Long:                  unjoinLong,
		Example:               unjoinExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.HostClusterContext, "host-cluster-context", o.HostClusterContext, "Kubeconfig context of the federation's API server (required).")
	fs.StringVar(&o.ClusterContext, "cluster-context", o.ClusterContext, "Kubeconfig context of the cluster to remove. Defaults to CLUSTER_NAME.")
	fs.StringVar(&o.FederationSystemNamespace, "federation-system-namespace", o.FederationSystemNamespace, "Namespace in the cluster where kubefed join put the federation's ServiceAccount.")
	fs.StringVar(&o.SecretName, "secret-name", o.SecretName, "Credential Secret in the federation, used when the Cluster object is already gone. Defaults to CLUSTER_NAME.")
	fs.StringVar(&o.FederationName, "federation-name", o.FederationName, "The federation-controller-manager's --federation-name, as given to kubefed join.")
	fs.BoolVar(&o.Wait, "wait", o.Wait, "Wait until the namespace unjoin deletes in the cluster is gone, as kubectl delete waits, so that the cluster can be joined again at once.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits at most.")
	fs.BoolVar(&o.DeleteMemberObjects, "delete-member-objects", o.DeleteMemberObjects, "Also delete the objects the federation propagated to the cluster (label federation.k8s.io/managed-by=<federation-name>), including the namespaces it created or adopted there with everything in them. By default they stay and keep running.")
	return cmd
}

// Complete takes the cluster name from args and loads the kubeconfig.
func (o *UnjoinOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("unjoin takes exactly one argument, the CLUSTER_NAME, got %d; see kubefed unjoin --help", len(args))
	}
	o.ClusterName = args[0]
	if o.ClusterContext == "" {
		o.ClusterContext = o.ClusterName
		o.contextDerived = true
	}
	if o.SecretName == "" {
		o.SecretName = o.ClusterName
	}
	global := clioptions.GlobalFromCommand(cmd)
	o.kubeconfigPath = global.Kubeconfig
	kc, err := clioptions.LoadKubeconfig(global.Kubeconfig, global.RequestTimeout)
	if err != nil {
		return err
	}
	o.kubeconfig = kc
	return nil
}

// Validate reports every problem with the arguments and flags at once.
func (o *UnjoinOptions) Validate() error {
	var errs []error
	nameOK := true
	if msgs := validation.IsDNS1123Label(o.ClusterName); len(msgs) > 0 {
		nameOK = false
		errs = append(errs, fmt.Errorf("cluster name %q is invalid: %s", o.ClusterName, strings.Join(msgs, "; ")))
	}
	if msgs := validation.IsDNS1123Label(o.FederationName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--federation-name %q is invalid: %s", o.FederationName, strings.Join(msgs, "; ")))
	}
	if msgs := validation.IsDNS1123Label(o.FederationSystemNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--federation-system-namespace %q is invalid: %s", o.FederationSystemNamespace, strings.Join(msgs, "; ")))
	}
	if o.Wait && o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout must be positive with --wait, got %s", o.Timeout))
	}
	if o.kubeconfig != nil {
		if err := o.kubeconfig.CheckContext("host-cluster-context", o.HostClusterContext); err != nil {
			errs = append(errs, err)
		}
		// A context defaulted to an invalid name would only repeat its error.
		if err := o.kubeconfig.CheckContext("cluster-context", o.ClusterContext); err != nil && (nameOK || !o.contextDerived) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *UnjoinOptions) connect() error {
	if o.FederationClient != nil && o.FederationKube != nil && o.MemberClient != nil && o.MemberDynamic != nil {
		return nil
	}
	if o.kubeconfig == nil {
		return fmt.Errorf("no kubeconfig loaded: call Complete first")
	}
	fedCfg, err := o.kubeconfig.RESTConfig(o.HostClusterContext)
	if err != nil {
		return err
	}
	memberCfg, err := o.kubeconfig.RESTConfig(o.ClusterContext)
	if err != nil {
		return err
	}
	if o.FederationClient, err = fedclientset.NewForConfig(fedCfg); err != nil {
		return fmt.Errorf("federation client for context %q: %w", o.HostClusterContext, err)
	}
	if o.FederationKube, err = kubernetes.NewForConfig(fedCfg); err != nil {
		return fmt.Errorf("federation client for context %q: %w", o.HostClusterContext, err)
	}
	if o.MemberClient, err = kubernetes.NewForConfig(memberCfg); err != nil {
		return fmt.Errorf("client for context %q: %w", o.ClusterContext, err)
	}
	if o.MemberDynamic, err = dynamic.NewForConfig(memberCfg); err != nil {
		return fmt.Errorf("client for context %q: %w", o.ClusterContext, err)
	}
	o.Federation = clioptions.Target{What: "the federation", Context: o.HostClusterContext, Server: fedCfg.Host}
	o.Member = clioptions.Target{What: "cluster " + o.ClusterName, Context: o.ClusterContext, Server: memberCfg.Host}
	return nil
}

// Run removes the cluster: first from the federation, so that the
// controllers stop writing to it, then what join left in it.
func (o *UnjoinOptions) Run(ctx context.Context) error {
	if err := o.connect(); err != nil {
		return err
	}
	if err := o.unregister(ctx); err != nil {
		return err
	}
	if _, err := o.MemberClient.Discovery().ServerVersion(); err != nil {
		names := join.MemberObjectNames(o.FederationName, o.FederationSystemNamespace)
		return fmt.Errorf("%w\nCluster %s is no longer part of the federation, but what kubefed join created in it is still there. Once it is reachable, run this command again, or delete it yourself:\n  %s delete clusterrolebinding,clusterrole %s\n  %s -n %s delete serviceaccount,secret -l %s=%s\nand remove the lines of federation %s ending in %q from the Corefile: %s -n %s edit configmap %s",
			o.Member.Explain(err), o.ClusterName, o.kubectl(o.ClusterContext), names.ClusterRole,
			o.kubectl(o.ClusterContext), names.Namespace, join.JoinedByLabel, o.FederationName,
			o.FederationName, corefile.Marker, o.kubectl(o.ClusterContext), join.CoreDNSNamespace, join.CoreDNSConfigMap)
	}
	var errs []error
	errs = append(errs, o.removeJoinObjects(ctx)...)
	if err := o.removeClusterDNS(ctx); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.handleMemberObjects(ctx)...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster %s was removed from the federation, but not everything could be cleaned up in it:\n%w", o.ClusterName, err)
	}
	fmt.Fprintf(o.Out, "Cluster %s is no longer part of the federation.\n", o.ClusterName)
	return nil
}

// unregister deletes the Cluster and its credential Secret.
func (o *UnjoinOptions) unregister(ctx context.Context) error {
	clusters := o.FederationClient.FederationV1beta1().Clusters()
	secretName, referenced := o.SecretName, false
	cluster, err := clusters.Get(ctx, o.ClusterName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		fmt.Fprintf(o.Out, "Cluster %s is not registered in the federation; cleaning up what kubefed join may have left\n", o.ClusterName)
	case err != nil:
		return o.Federation.Explain(fmt.Errorf("get cluster %s: %w", o.ClusterName, err))
	default:
		// Cleaning up the wrong cluster would take another member's
		// credentials away.
		registered, _ := clusterclient.ServerAddress(cluster)
		if !join.SameServer(registered, o.Member.Server) {
			return fmt.Errorf("cluster %s is registered for server %s, but context %q points at %s; pass the context of that server as --cluster-context, so that unjoin cleans up the right cluster",
				o.ClusterName, registered, o.ClusterContext, o.Member.Server)
		}
		if cluster.Spec.SecretRef != nil && cluster.Spec.SecretRef.Name != "" {
			secretName, referenced = cluster.Spec.SecretRef.Name, true
		}
		if err := clusters.Delete(ctx, o.ClusterName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return o.Federation.Explain(fmt.Errorf("delete cluster %s: %w", o.ClusterName, err))
		}
		fmt.Fprintf(o.Out, "Deleted cluster %s from the federation\n", o.ClusterName)
	}

	secrets := o.FederationKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace)
	secret, err := secrets.Get(ctx, secretName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return o.Federation.Explain(fmt.Errorf("get secret %s/%s: %w", federationv1beta1.FederationSystemNamespace, secretName, err))
	case !referenced && secret.Labels[join.ClusterLabel] != o.ClusterName:
		fmt.Fprintf(o.Out, "Kept Secret %s/%s in the federation: no Cluster refers to it and kubefed join did not create it for cluster %s\n", federationv1beta1.FederationSystemNamespace, secretName, o.ClusterName)
		return nil
	}
	if err := secrets.Delete(ctx, secretName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return o.Federation.Explain(fmt.Errorf("delete secret %s/%s: %w", federationv1beta1.FederationSystemNamespace, secretName, err))
	}
	fmt.Fprintf(o.Out, "Deleted Secret %s/%s from the federation\n", federationv1beta1.FederationSystemNamespace, secretName)
	return nil
}

// removeJoinObjects deletes what join created in the member, newest first.
func (o *UnjoinOptions) removeJoinObjects(ctx context.Context) []error {
	names := join.MemberObjectNames(o.FederationName, o.FederationSystemNamespace)
	core := o.MemberClient.CoreV1()
	rbac := o.MemberClient.RbacV1()
	ns := names.Namespace
	var errs []error
	for _, obj := range []struct {
		desc string
		get  func(context.Context) (metav1.Object, error)
		del  func(context.Context) error
	}{
		{"ClusterRoleBinding " + names.ClusterRoleBinding,
			func(ctx context.Context) (metav1.Object, error) {
				return rbac.ClusterRoleBindings().Get(ctx, names.ClusterRoleBinding, metav1.GetOptions{})
			},
			func(ctx context.Context) error {
				return rbac.ClusterRoleBindings().Delete(ctx, names.ClusterRoleBinding, metav1.DeleteOptions{})
			}},
		{"ClusterRole " + names.ClusterRole,
			func(ctx context.Context) (metav1.Object, error) {
				return rbac.ClusterRoles().Get(ctx, names.ClusterRole, metav1.GetOptions{})
			},
			func(ctx context.Context) error {
				return rbac.ClusterRoles().Delete(ctx, names.ClusterRole, metav1.DeleteOptions{})
			}},
		{fmt.Sprintf("token Secret %s/%s", ns, names.TokenSecret),
			func(ctx context.Context) (metav1.Object, error) {
				return core.Secrets(ns).Get(ctx, names.TokenSecret, metav1.GetOptions{})
			},
			func(ctx context.Context) error {
				return core.Secrets(ns).Delete(ctx, names.TokenSecret, metav1.DeleteOptions{})
			}},
		{fmt.Sprintf("ServiceAccount %s/%s", ns, names.ServiceAccount),
			func(ctx context.Context) (metav1.Object, error) {
				return core.ServiceAccounts(ns).Get(ctx, names.ServiceAccount, metav1.GetOptions{})
			},
			func(ctx context.Context) error {
				return core.ServiceAccounts(ns).Delete(ctx, names.ServiceAccount, metav1.DeleteOptions{})
			}},
	} {
		cur, err := obj.get(ctx)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			errs = append(errs, o.Member.Explain(fmt.Errorf("get %s: %w", obj.desc, err)))
			continue
		case cur.GetLabels()[join.JoinedByLabel] != o.FederationName:
			fmt.Fprintf(o.Out, "Kept %s in %s: kubefed join did not create it for federation %q\n", obj.desc, o.ClusterName, o.FederationName)
			continue
		}
		if err := obj.del(ctx); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, o.Member.Explain(fmt.Errorf("delete %s: %w", obj.desc, err)))
			continue
		}
		fmt.Fprintf(o.Out, "Deleted %s from %s\n", obj.desc, o.ClusterName)
	}
	if err := o.removeNamespace(ctx, ns); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// removeClusterDNS takes the federation out of the Corefile of the member's
// CoreDNS: exactly the lines kubefed join added for it.
func (o *UnjoinOptions) removeClusterDNS(ctx context.Context) error {
	where := join.CorefileLocation(o.ClusterName)
	edit, err := join.UpdateCorefile(ctx, o.MemberClient, true, func(text string) (corefile.Result, error) {
		return corefile.Unjoin(text, o.FederationName)
	})
	if err != nil {
		return o.Member.Explain(err)
	}
	switch {
	case edit.Missing != "":
		return nil
	case edit.EditErr != nil:
		fmt.Fprintf(o.Out, "Note: kubefed cannot read the Corefile in %s (%v), so it was left alone; if kubefed join added federation %s to it, remove the lines ending in %q by hand\n",
			where, edit.EditErr, o.FederationName, corefile.Marker)
	case edit.Updated:
		fmt.Fprintf(o.Out, "Removed federation %s from the Corefile in %s:\n", o.FederationName, where)
		join.PrintDiff(o.Out, edit.Before, edit.Result.Corefile)
		if !edit.Result.Reload {
			fmt.Fprintf(o.Out, "The Corefile has no reload plugin: restart CoreDNS to load it: %s -n %s rollout restart deployment coredns\n", o.kubectl(o.ClusterContext), join.CoreDNSNamespace)
		}
	}
	for _, n := range edit.Result.Notes {
		fmt.Fprintf(o.Out, "Note: Corefile in %s, %s\n", where, n)
	}
	return nil
}

// removeNamespace deletes the federation-system namespace of the member if
// join created it for this federation and nothing else lives in it: another
// federation's ServiceAccount, or a control plane deployed there.
func (o *UnjoinOptions) removeNamespace(ctx context.Context, ns string) error {
	core := o.MemberClient.CoreV1()
	namespace, err := core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return o.Member.Explain(fmt.Errorf("get namespace %s: %w", ns, err))
	case namespace.Labels[join.JoinedByLabel] != o.FederationName:
		fmt.Fprintf(o.Out, "Kept namespace %s in %s: kubefed join did not create it\n", ns, o.ClusterName)
		return nil
	case namespace.DeletionTimestamp != nil:
		return o.waitGone(ctx, ns)
	}
	accounts, err := core.ServiceAccounts(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return o.Member.Explain(fmt.Errorf("list service accounts in namespace %s: %w", ns, err))
	}
	var others []string
	for _, sa := range accounts.Items {
		if sa.Name != "default" && sa.DeletionTimestamp == nil {
			others = append(others, sa.Name)
		}
	}
	pods, err := core.Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return o.Member.Explain(fmt.Errorf("list pods in namespace %s: %w", ns, err))
	}
	if len(others) > 0 || len(pods.Items) > 0 {
		fmt.Fprintf(o.Out, "Kept namespace %s in %s: it is in use (service accounts %v, %d pods)\n", ns, o.ClusterName, others, len(pods.Items))
		return nil
	}
	if err := core.Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return o.Member.Explain(fmt.Errorf("delete namespace %s: %w", ns, err))
	}
	fmt.Fprintf(o.Out, "Deleted namespace %s from %s\n", ns, o.ClusterName)
	return o.waitGone(ctx, ns)
}

// DefaultTimeout is how long --wait waits for the namespace by default.
const DefaultTimeout = 2 * time.Minute

// namespacePoll is how often waitGone looks.
const namespacePoll = 500 * time.Millisecond

// waitGone waits, with --wait, until the member's namespace ns is gone.
func (o *UnjoinOptions) waitGone(ctx context.Context, ns string) error {
	if !o.Wait {
		return nil
	}
	fmt.Fprintf(o.Out, "Waiting for namespace %s in %s to be gone (--wait, up to %s)\n", ns, o.ClusterName, o.Timeout)
	err := wait.PollUntilContextTimeout(ctx, namespacePoll, o.Timeout, true, func(ctx context.Context) (bool, error) {
		_, err := o.MemberClient.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		// Anything else (still there, or a passing error): look again.
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("namespace %s in %s is still being deleted after %s; see what holds it with\n  %s get namespace %s -o yaml\nkubefed join refuses this cluster until it is gone", ns, o.ClusterName, o.Timeout, o.kubectl(o.ClusterContext), ns)
	}
	return nil
}

// handleMemberObjects deletes, or counts and leaves, the objects the
// federation propagated to the member.
func (o *UnjoinOptions) handleMemberObjects(ctx context.Context) []error {
	selector := clusterclient.ManagedByLabel + "=" + o.FederationName
	adapters := federatedtypes.All()
	counts := map[string]int{}
	total := 0
	var errs []error
	// All lists namespaces first; deleting goes the other way, so that
	// each object is deleted by itself rather than with its namespace.
	for i := len(adapters) - 1; i >= 0; i-- {
		a := adapters[i]
		list, err := o.MemberDynamic.Resource(a.GVR).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if apierrors.IsNotFound(err) {
			continue // the member does not serve this kind
		}
		if err != nil {
			errs = append(errs, o.Member.Explain(fmt.Errorf("list %s labelled %s: %w", a.GVR.Resource, selector, err)))
			continue
		}
		for _, item := range list.Items {
			if !o.DeleteMemberObjects {
				counts[a.GVR.Resource]++
				total++
				continue
			}
			// Namespaces only: an IngressClass is cluster-scoped too, but
			// one called default is the federation's like any other.
			if a.Kind == "Namespace" && (protectedNamespaces[item.GetName()] || item.GetName() == o.FederationSystemNamespace) {
				fmt.Fprintf(o.Out, "Kept namespace %s in %s: it is the cluster's own; the federated objects in it were deleted\n", item.GetName(), o.ClusterName)
				continue
			}
			r := o.MemberDynamic.Resource(a.GVR).Namespace(item.GetNamespace())
			if err := r.Delete(ctx, item.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, o.Member.Explain(fmt.Errorf("delete %s %s: %w", a.Kind, key(item.GetNamespace(), item.GetName()), err)))
				continue
			}
			counts[a.GVR.Resource]++
			total++
		}
	}
	summary := countSummary(counts)
	switch {
	case o.DeleteMemberObjects:
		fmt.Fprintf(o.Out, "Deleted %d objects managed by federation %q from %s%s\n", total, o.FederationName, o.ClusterName, summary)
	case total == 0:
		fmt.Fprintf(o.Out, "No objects managed by federation %q are left in %s\n", o.FederationName, o.ClusterName)
	default:
		fmt.Fprintf(o.Out, "Left %d objects managed by federation %q in %s%s: they keep running, no longer updated by the federation. "+
			"To delete them, run this command again with --delete-member-objects=true, or: %s delete <kind> --all-namespaces -l %s\n",
			total, o.FederationName, o.ClusterName, summary, o.kubectl(o.ClusterContext), selector)
	}
	return errs
}

func countSummary(counts map[string]int) string {
	if len(counts) == 0 {
		return ""
	}
	parts := make([]string, 0, len(counts))
	for r, n := range counts {
		parts = append(parts, fmt.Sprintf("%s: %d", r, n))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}

func key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

func (o *UnjoinOptions) kubectl(context string) string {
	return join.Kubectl(o.kubeconfigPath, context)
}
