// Package join implements `kubefed join`: it gives the federation its own
// credentials in a member cluster (a ServiceAccount with a ClusterRole
// granting exactly what the controllers need, and a long-lived token), and
// registers the member in the federation (a credential Secret and a Cluster
// object). A run that fails halfway removes what it created.
package join

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedclientset "github.com/kfederation/client-go/clientset/versioned"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/kubefed/clioptions"
)

// DefaultTokenTimeout is how long join waits for the member's token
// controller to fill the ServiceAccount's token Secret; it takes well under
// a second on a healthy cluster.
const DefaultTokenTimeout = time.Minute

// AllClientsCIDR is the client network of the one server address join
// registers: every client uses the address from the member's kubeconfig.
const AllClientsCIDR = "0.0.0.0/0"

var (
	joinLong = `Join a cluster to a federation.

In the cluster (context --cluster-context, default CLUSTER_NAME), join creates
the namespace --federation-system-namespace (unless it exists), a ServiceAccount
<federation-name>-controller-manager there, a ClusterRole granting exactly what
the federation's controllers do in a member (get, list, watch, create, update,
patch and delete on the federated kinds; reading nodes and pods; the health
endpoints), a ClusterRoleBinding, and a long-lived token for the ServiceAccount.

In the federation (context --host-cluster-context), it stores the token and the
cluster's CA in the Secret --secret-name (default CLUSTER_NAME) in the
federation-system namespace, and creates the Cluster CLUSTER_NAME with the
server address of the cluster's kubeconfig context.

With --dns-zone-name, join also lets the cluster's pods resolve federated
Services as <service>.<namespace>.<federation-name>.svc.<cluster domain>: it
adds the federation to the federation plugin's stanza in the Corefile of the
cluster's CoreDNS (ConfigMap kube-system/coredns), with the zone and region of
the cluster's nodes. Every line it adds ends in "# added by kubefed join", and
kubefed unjoin removes exactly those. CoreDNS must run an image with the
federation plugin.

Joining a cluster that is already joined changes nothing, except that its
Corefile is brought up to date with --dns-zone-name. If join fails halfway, it
removes what it had created, or prints what is left to delete.`

	joinExample = `  # Join the cluster of context us-central1-a as cluster us-central1-a
  kubefed join us-central1-a --host-cluster-context=federation-cluster

  # Join the cluster of context gke-prod-1 under another name
  kubefed join prod-1 --host-cluster-context=federation-cluster --cluster-context=gke-prod-1

  # Also let the cluster's pods resolve federated Services (nginx.mynamespace.federation.svc.cluster.local)
  kubefed join us-central1-a --host-cluster-context=federation-cluster --dns-zone-name=example.com

  # Print what join would create, and change nothing
  kubefed join us-central1-a --host-cluster-context=federation-cluster --dry-run`
)

// JoinOptions are the inputs of `kubefed join`.
type JoinOptions struct {
	// ClusterName is the name of the Cluster object in the federation.
	ClusterName string
	// HostClusterContext is the kubeconfig context of the federation's API.
	HostClusterContext string
	// ClusterContext is the kubeconfig context of the member.
	ClusterContext string
	// FederationSystemNamespace holds the ServiceAccount in the member.
	FederationSystemNamespace string
	// SecretName names the credential Secret in the federation.
	SecretName string
	// FederationName is the federation-controller-manager's
	// --federation-name; member objects are named after it.
	FederationName string
	// DNSZoneName is the federation's DNS zone (the controller manager's
	// --zone-name, kubefed init's --dns-zone-name); with it, join adds the
	// federation to the member's CoreDNS configuration.
	DNSZoneName string
	// ServiceDNSSuffix is the controller manager's --service-dns-suffix,
	// if it runs with one other than the zone.
	ServiceDNSSuffix string
	// DryRun prints what would be created and changes nothing.
	DryRun bool
	// TokenTimeout bounds the wait for the member's token controller.
	TokenTimeout time.Duration
	// NamespaceTimeout bounds the wait for a namespace join needs that an
	// earlier unjoin is still deleting.
	NamespaceTimeout time.Duration

	// Clients and targets, built by Run from the kubeconfig unless set
	// (tests set them).
	FederationClient fedclientset.Interface
	FederationKube   kubernetes.Interface
	MemberClient     kubernetes.Interface
	Federation       clioptions.Target
	Member           clioptions.Target
	// MemberCAData is the CA the member's kubeconfig trusts; the
	// federation gets the same, so that it trusts what the user trusts.
	MemberCAData []byte

	clioptions.IOStreams

	kubeconfig     *clioptions.Kubeconfig
	kubeconfigPath string
	// derived are the flags Complete defaulted to the cluster name, whose
	// problems are the name's.
	derived []string
}

// NewJoinOptions returns the defaults.
func NewJoinOptions(streams clioptions.IOStreams) *JoinOptions {
	return &JoinOptions{
		FederationSystemNamespace: federationv1beta1.FederationSystemNamespace,
		FederationName:            DefaultFederationName,
		TokenTimeout:              DefaultTokenTimeout,
		NamespaceTimeout:          DefaultNamespaceTimeout,
		IOStreams:                 streams,
	}
}

// NewCmdJoin returns the join command.
func NewCmdJoin(streams clioptions.IOStreams) *cobra.Command {
	o := NewJoinOptions(streams)
	cmd := &cobra.Command{
		Use:                   "join CLUSTER_NAME --host-cluster-context=CONTEXT [--cluster-context=CONTEXT] [--dry-run]",
		DisableFlagsInUseLine: true,
		Short:                 "Join a cluster to a federation",
		Long:                  joinLong,
		Example:               joinExample,
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
	fs.StringVar(&o.ClusterContext, "cluster-context", o.ClusterContext, "Kubeconfig context of the cluster to join. Defaults to CLUSTER_NAME.")
	fs.StringVar(&o.FederationSystemNamespace, "federation-system-namespace", o.FederationSystemNamespace, "Namespace in the joining cluster for the federation's ServiceAccount. The credential Secret always goes to the federation's federation-system namespace.")
	fs.StringVar(&o.SecretName, "secret-name", o.SecretName, "Name of the credential Secret in the federation. Defaults to CLUSTER_NAME.")
	fs.StringVar(&o.FederationName, "federation-name", o.FederationName, "The federation-controller-manager's --federation-name; the member objects join creates are named after it.")
	fs.StringVar(&o.DNSZoneName, "dns-zone-name", o.DNSZoneName, "The federation's DNS zone, e.g. example.com: the controller manager's --zone-name (kubefed init's --dns-zone-name). With it, join adds the federation to the federation plugin's stanza in the cluster's Corefile (ConfigMap kube-system/coredns), so that its pods resolve <service>.<namespace>.<federation-name>.svc.<cluster domain>. Joining an already joined cluster with it only does that.")
	fs.StringVar(&o.ServiceDNSSuffix, "service-dns-suffix", o.ServiceDNSSuffix, "The controller manager's --service-dns-suffix, if it runs with one: the suffix of the federated Services' DNS names. Defaults to --dns-zone-name.")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "Print what would be created, and change nothing.")
	fs.DurationVar(&o.NamespaceTimeout, "namespace-timeout", o.NamespaceTimeout, "How long to wait for the federation's namespace in the cluster to be gone when an earlier unjoin is still deleting it.")
	fs.DurationVar(&o.TokenTimeout, "token-timeout", o.TokenTimeout, "How long to wait for the cluster's token controller to issue the ServiceAccount's token.")
	return cmd
}

// Complete takes the cluster name from args, fills in the defaults that
// depend on it, and loads the kubeconfig.
func (o *JoinOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("join takes exactly one argument, the CLUSTER_NAME, got %d; see kubefed join --help", len(args))
	}
	o.ClusterName = args[0]
	if o.ClusterContext == "" {
		o.ClusterContext = o.ClusterName
		o.derived = append(o.derived, "cluster-context")
	}
	if o.SecretName == "" {
		o.SecretName = o.ClusterName
		o.derived = append(o.derived, "secret-name")
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

// Validate reports every problem with the arguments and flags at once,
// before anything is sent to a cluster.
func (o *JoinOptions) Validate() error {
	var errs []error
	nameOK := true
	if msgs := validation.IsDNS1123Label(o.ClusterName); len(msgs) > 0 {
		nameOK = false
		errs = append(errs, fmt.Errorf("cluster name %q is invalid: %s", o.ClusterName, strings.Join(msgs, "; ")))
	}
	// Flags defaulted to an invalid name would only repeat its error.
	check := func(flag string) bool { return nameOK || !slices.Contains(o.derived, flag) }
	if msgs := validation.IsDNS1123Subdomain(o.SecretName); len(msgs) > 0 && check("secret-name") {
		errs = append(errs, fmt.Errorf("--secret-name %q is invalid: %s", o.SecretName, strings.Join(msgs, "; ")))
	}
	if msgs := validation.IsDNS1123Label(o.FederationSystemNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--federation-system-namespace %q is invalid: %s", o.FederationSystemNamespace, strings.Join(msgs, "; ")))
	}
	if msgs := validation.IsDNS1123Label(o.FederationName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--federation-name %q is invalid: %s", o.FederationName, strings.Join(msgs, "; ")))
	}
	if o.TokenTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--token-timeout must be positive, got %s", o.TokenTimeout))
	}
	errs = append(errs, o.validateDNS()...)
	if o.kubeconfig != nil {
		if err := o.kubeconfig.CheckContext("host-cluster-context", o.HostClusterContext); err != nil {
			errs = append(errs, err)
		}
		if err := o.kubeconfig.CheckContext("cluster-context", o.ClusterContext); err != nil && check("cluster-context") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validateDNS checks --dns-zone-name and --service-dns-suffix as the
// controller manager checks its --zone-name and --service-dns-suffix.
func (o *JoinOptions) validateDNS() []error {
	var errs []error
	zone := strings.ToLower(strings.TrimSuffix(o.DNSZoneName, "."))
	if o.DNSZoneName != "" {
		if msgs := validation.IsDNS1123Subdomain(zone); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--dns-zone-name %q is invalid: %s", o.DNSZoneName, strings.Join(msgs, "; ")))
		}
	}
	if o.ServiceDNSSuffix != "" {
		suffix := strings.ToLower(strings.TrimSuffix(o.ServiceDNSSuffix, "."))
		switch msgs := validation.IsDNS1123Subdomain(suffix); {
		case o.DNSZoneName == "":
			errs = append(errs, fmt.Errorf("--service-dns-suffix needs --dns-zone-name, the zone it is in"))
		case len(msgs) > 0:
			errs = append(errs, fmt.Errorf("--service-dns-suffix %q is invalid: %s", o.ServiceDNSSuffix, strings.Join(msgs, "; ")))
		case suffix != zone && !strings.HasSuffix(suffix, "."+zone):
			errs = append(errs, fmt.Errorf("--service-dns-suffix %q is not in zone %q", o.ServiceDNSSuffix, o.DNSZoneName))
		}
	}
	return errs
}

// connect builds the clients from the kubeconfig, unless set already.
func (o *JoinOptions) connect() error {
	if o.FederationClient != nil && o.FederationKube != nil && o.MemberClient != nil {
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
	if o.MemberCAData, err = o.kubeconfig.CAData(o.ClusterContext); err != nil {
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
	o.Federation = clioptions.Target{What: "the federation", Context: o.HostClusterContext, Server: fedCfg.Host}
	o.Member = clioptions.Target{What: "cluster " + o.ClusterName, Context: o.ClusterContext, Server: memberCfg.Host}
	return nil
}

// Run joins the cluster.
func (o *JoinOptions) Run(ctx context.Context) error {
	if err := o.connect(); err != nil {
		return err
	}
	joined, err := o.checkFederation(ctx)
	if err != nil || (joined && o.DNSZoneName == "") {
		return err
	}
	if !joined {
		if err := o.join(ctx); err != nil {
			return err
		}
	}
	// The cluster is joined by now (or would be): the cluster DNS comes
	// last, so that trouble with it never undoes the join.
	err = o.configureClusterDNS(ctx, joined)
	if o.DryRun {
		fmt.Fprintln(o.Out, "Dry run: nothing was changed.")
	}
	return err
}

// join sets the member up and registers it, rolling back on failure.
func (o *JoinOptions) join(ctx context.Context) error {
	if err := o.checkMember(ctx); err != nil {
		return err
	}
	j := &journal{out: o.Out}
	token, ca, err := o.setUpMember(ctx, j)
	if err != nil {
		return j.rollback(err)
	}
	if err := o.register(ctx, j, token, ca); err != nil {
		return j.rollback(err)
	}
	if !o.DryRun {
		fmt.Fprintf(o.Out, "Cluster %s joined the federation. It becomes Ready once the federation-controller-manager reaches it:\n  %s get clusters %s\n",
			o.ClusterName, o.kubectl(o.HostClusterContext), o.ClusterName)
	}
	return nil
}

// checkFederation says whether the cluster is already joined, and refuses
// a name or a server the federation already knows under the other one.
func (o *JoinOptions) checkFederation(ctx context.Context) (joined bool, err error) {
	clusters := o.FederationClient.FederationV1beta1().Clusters()
	existing, err := clusters.Get(ctx, o.ClusterName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, o.Federation.Explain(fmt.Errorf("get cluster %s: %w", o.ClusterName, err))
	default:
		registered, _ := clusterclient.ServerAddress(existing)
		if SameServer(registered, o.Member.Server) {
			what := "nothing to do"
			if o.DNSZoneName != "" {
				what = "checking only its CoreDNS configuration"
			}
			fmt.Fprintf(o.Out, "Cluster %s is already joined to the federation (server %s); %s.\n", o.ClusterName, registered, what)
			return true, nil
		}
		return false, fmt.Errorf("cluster name %q is already registered in the federation for server %s, not %s (context %q); choose another name, or run kubefed unjoin %s first if that cluster is gone",
			o.ClusterName, registered, o.Member.Server, o.ClusterContext, o.ClusterName)
	}
	list, err := clusters.List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, o.Federation.Explain(fmt.Errorf("list clusters: %w", err))
	}
	for i := range list.Items {
		c := &list.Items[i]
		if addr, err := clusterclient.ServerAddress(c); err == nil && SameServer(addr, o.Member.Server) {
			// Two Clusters for one member would have two sync writers
			// fight over every object in it.
			return false, fmt.Errorf("server %s (context %q) is already joined to the federation as cluster %s; a cluster can be joined only once: use that name, or run kubefed unjoin %s first",
				o.Member.Server, o.ClusterContext, c.Name, c.Name)
		}
	}
	return false, nil
}

// checkMember makes sure the member answers, and that the context's user
// may create what join creates, before anything is created.
func (o *JoinOptions) checkMember(ctx context.Context) error {
	if _, err := o.MemberClient.Discovery().ServerVersion(); err != nil {
		return o.Member.Explain(fmt.Errorf("get version: %w", err))
	}
	ns := o.FederationSystemNamespace
	needed := []permission{
		{verb: "create", resource: "serviceaccounts", namespace: ns},
		{verb: "create", resource: "secrets", namespace: ns},
		{verb: "get", resource: "secrets", namespace: ns},
		{verb: "create", group: rbacv1.GroupName, resource: "clusterroles"},
		{verb: "create", group: rbacv1.GroupName, resource: "clusterrolebindings"},
	}
	if o.DNSZoneName != "" {
		needed = append(needed,
			permission{verb: "list", resource: "nodes"},
			permission{verb: "get", resource: "configmaps", namespace: CoreDNSNamespace},
			permission{verb: "update", resource: "configmaps", namespace: CoreDNSNamespace})
	}
	if _, err := o.MemberClient.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			return o.Member.Explain(fmt.Errorf("get namespace %s: %w", ns, err))
		}
		needed = append([]permission{{verb: "create", resource: "namespaces"}}, needed...)
	}
	var missing []string
	for _, p := range needed {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: p.verb, Group: p.group, Resource: p.resource, Namespace: p.namespace},
		}}
		got, err := o.MemberClient.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return o.Member.Explain(fmt.Errorf("check permission to %s: %w", p, err))
		}
		if !got.Status.Allowed {
			missing = append(missing, p.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the user of context %q may not %s in cluster %s; join creates a ServiceAccount for the federation there and grants it a ClusterRole: use a context with cluster-admin rights in that cluster, or grant its user these permissions",
			o.ClusterContext, strings.Join(missing, ", "), o.ClusterName)
	}
	return nil
}

type permission struct {
	verb, group, resource, namespace string
}

func (p permission) String() string {
	r := p.resource
	if p.group != "" {
		r += "." + p.group
	}
	if p.namespace != "" {
		return fmt.Sprintf("%s %s in namespace %s", p.verb, r, p.namespace)
	}
	return p.verb + " " + r
}

// DefaultNamespaceTimeout is --namespace-timeout's default.
const DefaultNamespaceTimeout = 2 * time.Minute

// waitNamespaceGone waits, up to NamespaceTimeout, for the member's
// namespace ns to be gone if it is being deleted (an unjoin just ran):
// nothing can be created in it until then.
func (o *JoinOptions) waitNamespaceGone(ctx context.Context, ns string) error {
	core := o.MemberClient.CoreV1()
	cur, err := core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil || cur.DeletionTimestamp == nil {
		// Absent, present, or unreadable: ensure says what to do.
		return nil
	}
	if o.DryRun {
		fmt.Fprintf(o.Out, "Would wait for namespace %s in %s, being deleted, to be gone\n", ns, o.ClusterName)
		return nil
	}
	fmt.Fprintf(o.Out, "Waiting for namespace %s in %s, being deleted, to be gone (up to %s)\n", ns, o.ClusterName, o.NamespaceTimeout)
	err = wait.PollUntilContextTimeout(ctx, namespacePoll, o.NamespaceTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("namespace %s in %s is still being deleted after %s; see what holds it with\n  %s get namespace %s -o yaml\nthen join again", ns, o.ClusterName, o.NamespaceTimeout, o.kubectl(o.ClusterContext), ns)
	}
	return nil
}

// namespacePoll is how often waitNamespaceGone looks.
const namespacePoll = 500 * time.Millisecond

// setUpMember creates the federation's ServiceAccount in the member and
// returns its token and the CA the federation should trust.
func (o *JoinOptions) setUpMember(ctx context.Context, j *journal) (token, ca []byte, err error) {
	names := MemberObjectNames(o.FederationName, o.FederationSystemNamespace)
	core := o.MemberClient.CoreV1()
	rbac := o.MemberClient.RbacV1()
	labels := map[string]string{JoinedByLabel: o.FederationName}
	ns := names.Namespace

	if err := o.waitNamespaceGone(ctx, ns); err != nil {
		return nil, nil, err
	}
	// A namespace that exists is used as it is and never removed by unjoin;
	// one join creates carries the label, which tells unjoin it may go.
	err = o.ensure(ctx, j, object{
		target: o.Member, desc: "namespace " + ns,
		manual: o.kubectl(o.ClusterContext) + " delete namespace " + ns,
		get: func(ctx context.Context) (metav1.Object, error) {
			return core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{})
			return err
		},
		delete: func(ctx context.Context) error { return core.Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) },
		// Nothing can be created in a namespace being deleted.
		owned:    func(m metav1.Object) bool { return m.GetDeletionTimestamp() == nil },
		notOwned: "it is being deleted (by kubefed unjoin?); wait until it is gone, then join again",
	})
	if err != nil {
		return nil, nil, err
	}

	err = o.ensure(ctx, j, object{
		target: o.Member, desc: fmt.Sprintf("ServiceAccount %s/%s", ns, names.ServiceAccount),
		manual: fmt.Sprintf("%s -n %s delete serviceaccount %s", o.kubectl(o.ClusterContext), ns, names.ServiceAccount),
		get: func(ctx context.Context) (metav1.Object, error) {
			return core.ServiceAccounts(ns).Get(ctx, names.ServiceAccount, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := core.ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: names.ServiceAccount, Namespace: ns, Labels: labels}}, metav1.CreateOptions{})
			return err
		},
		delete: func(ctx context.Context) error {
			return core.ServiceAccounts(ns).Delete(ctx, names.ServiceAccount, metav1.DeleteOptions{})
		},
		owned: o.joinedByUs,
	})
	if err != nil {
		return nil, nil, err
	}

	escalation := fmt.Sprintf("Kubernetes lets a user grant only permissions it holds itself: the user of context %q needs every permission of the ClusterRole (or the escalate and bind verbs on clusterroles); use a context with cluster-admin rights in that cluster", o.ClusterContext)
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRole, Labels: labels}, Rules: MemberRules()}
	err = o.ensure(ctx, j, object{
		target: o.Member, desc: "ClusterRole " + names.ClusterRole, forbidden: escalation,
		manual: o.kubectl(o.ClusterContext) + " delete clusterrole " + names.ClusterRole,
		get: func(ctx context.Context) (metav1.Object, error) {
			return rbac.ClusterRoles().Get(ctx, names.ClusterRole, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
			return err
		},
		// A leftover of an older kubefed gets today's rules.
		update: func(ctx context.Context, cur metav1.Object) (bool, error) {
			existing := cur.(*rbacv1.ClusterRole)
			if equality.Semantic.DeepEqual(existing.Rules, role.Rules) {
				return false, nil
			}
			existing.Rules = role.Rules
			_, err := rbac.ClusterRoles().Update(ctx, existing, metav1.UpdateOptions{})
			return true, err
		},
		delete: func(ctx context.Context) error {
			return rbac.ClusterRoles().Delete(ctx, names.ClusterRole, metav1.DeleteOptions{})
		},
		owned: o.joinedByUs,
	})
	if err != nil {
		return nil, nil, err
	}

	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRoleBinding, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: names.ClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: names.ServiceAccount, Namespace: ns}},
	}
	err = o.ensure(ctx, j, object{
		target: o.Member, desc: "ClusterRoleBinding " + names.ClusterRoleBinding, forbidden: escalation,
		manual: o.kubectl(o.ClusterContext) + " delete clusterrolebinding " + names.ClusterRoleBinding,
		get: func(ctx context.Context) (metav1.Object, error) {
			return rbac.ClusterRoleBindings().Get(ctx, names.ClusterRoleBinding, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
			return err
		},
		update: func(ctx context.Context, cur metav1.Object) (bool, error) {
			existing := cur.(*rbacv1.ClusterRoleBinding)
			if existing.RoleRef != binding.RoleRef {
				return false, fmt.Errorf("ClusterRoleBinding %s in cluster %s refers to %s %s, not ClusterRole %s; delete it and join again", names.ClusterRoleBinding, o.ClusterName, existing.RoleRef.Kind, existing.RoleRef.Name, names.ClusterRole)
			}
			if equality.Semantic.DeepEqual(existing.Subjects, binding.Subjects) {
				return false, nil
			}
			existing.Subjects = binding.Subjects
			_, err := rbac.ClusterRoleBindings().Update(ctx, existing, metav1.UpdateOptions{})
			return true, err
		},
		delete: func(ctx context.Context) error {
			return rbac.ClusterRoleBindings().Delete(ctx, names.ClusterRoleBinding, metav1.DeleteOptions{})
		},
		owned: o.joinedByUs,
	})
	if err != nil {
		return nil, nil, err
	}

	// A token Secret, not the TokenRequest API: the federation needs a
	// credential that does not expire while the cluster stays joined.
	tokenSecret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: names.TokenSecret, Namespace: ns, Labels: labels,
			Annotations: map[string]string{corev1.ServiceAccountNameKey: names.ServiceAccount},
		},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	err = o.ensure(ctx, j, object{
		target: o.Member, desc: fmt.Sprintf("token Secret %s/%s", ns, names.TokenSecret),
		manual: fmt.Sprintf("%s -n %s delete secret %s", o.kubectl(o.ClusterContext), ns, names.TokenSecret),
		get: func(ctx context.Context) (metav1.Object, error) {
			return core.Secrets(ns).Get(ctx, names.TokenSecret, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := core.Secrets(ns).Create(ctx, tokenSecret, metav1.CreateOptions{})
			return err
		},
		delete: func(ctx context.Context) error {
			return core.Secrets(ns).Delete(ctx, names.TokenSecret, metav1.DeleteOptions{})
		},
		owned: o.joinedByUs,
	})
	if err != nil {
		return nil, nil, err
	}
	if o.DryRun {
		fmt.Fprintf(o.Out, "Would wait for the token of ServiceAccount %s/%s in %s\n", ns, names.ServiceAccount, o.ClusterName)
		return nil, o.MemberCAData, nil
	}
	filled, err := o.waitForToken(ctx, names)
	if err != nil {
		return nil, nil, err
	}
	ca = o.MemberCAData
	if len(ca) == 0 {
		// The kubeconfig trusts the system roots or skips verification;
		// the token controller's CA is the member's own.
		ca = filled.Data[corev1.ServiceAccountRootCAKey]
	}
	if len(ca) == 0 {
		fmt.Fprintf(o.ErrOut, "Warning: neither context %q nor the token Secret has a CA for cluster %s; the federation will trust its server only if a system root CA signed its certificate.\n", o.ClusterContext, o.ClusterName)
	}
	return filled.Data[corev1.ServiceAccountTokenKey], ca, nil
}

// waitForToken waits until the member's token controller has put a token
// into the ServiceAccount's token Secret.
func (o *JoinOptions) waitForToken(ctx context.Context, names MemberObjects) (*corev1.Secret, error) {
	fmt.Fprintf(o.Out, "Waiting for the token of ServiceAccount %s/%s in %s\n", names.Namespace, names.ServiceAccount, o.ClusterName)
	secrets := o.MemberClient.CoreV1().Secrets(names.Namespace)
	var filled *corev1.Secret
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, o.TokenTimeout, true, func(ctx context.Context) (bool, error) {
		s, err := secrets.Get(ctx, names.TokenSecret, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// The token controller deletes token Secrets whose
			// ServiceAccount it does not know.
			return false, fmt.Errorf("token Secret %s/%s disappeared from cluster %s: was ServiceAccount %s deleted meanwhile?", names.Namespace, names.TokenSecret, o.ClusterName, names.ServiceAccount)
		}
		if err != nil {
			last = err
			return false, nil
		}
		filled = s
		return len(s.Data[corev1.ServiceAccountTokenKey]) > 0, nil
	})
	if err != nil {
		if last != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (last error: %v)", err, last)
		}
		return nil, fmt.Errorf("no token in Secret %s/%s of cluster %s after %s: %w; the cluster's kube-controller-manager issues it, so check that it runs with --service-account-private-key-file and the serviceaccount-token controller (%s -n %s describe secret %s), or raise --token-timeout",
			names.Namespace, names.TokenSecret, o.ClusterName, o.TokenTimeout, err, o.kubectl(o.ClusterContext), names.Namespace, names.TokenSecret)
	}
	fmt.Fprintf(o.Out, "Got the token of ServiceAccount %s/%s\n", names.Namespace, names.ServiceAccount)
	return filled, nil
}

// register creates the credential Secret and the Cluster in the federation.
func (o *JoinOptions) register(ctx context.Context, j *journal, token, ca []byte) error {
	secrets := o.FederationKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace)
	data := map[string][]byte{clusterclient.SecretTokenKey: token}
	if len(ca) > 0 {
		data[clusterclient.SecretCAKey] = ca
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: o.SecretName, Namespace: federationv1beta1.FederationSystemNamespace, Labels: map[string]string{ClusterLabel: o.ClusterName}},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	err := o.ensure(ctx, j, object{
		target: o.Federation, federation: true, desc: fmt.Sprintf("Secret %s/%s", federationv1beta1.FederationSystemNamespace, o.SecretName),
		manual: fmt.Sprintf("%s -n %s delete secret %s", o.kubectl(o.HostClusterContext), federationv1beta1.FederationSystemNamespace, o.SecretName),
		get: func(ctx context.Context) (metav1.Object, error) {
			return secrets.Get(ctx, o.SecretName, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := secrets.Create(ctx, secret, metav1.CreateOptions{})
			return err
		},
		// Left over from a join that failed after this step: it holds a
		// token that may be stale.
		update: func(ctx context.Context, cur metav1.Object) (bool, error) {
			existing := cur.(*corev1.Secret)
			if equality.Semantic.DeepEqual(existing.Data, data) {
				return false, nil
			}
			existing.Data = data
			_, err := secrets.Update(ctx, existing, metav1.UpdateOptions{})
			return true, err
		},
		delete: func(ctx context.Context) error { return secrets.Delete(ctx, o.SecretName, metav1.DeleteOptions{}) },
		owned:  func(m metav1.Object) bool { return m.GetLabels()[ClusterLabel] == o.ClusterName },
		notOwned: fmt.Sprintf("it was not created by kubefed join for cluster %s (no label %s=%s); pass another --secret-name, or delete it",
			o.ClusterName, ClusterLabel, o.ClusterName),
	})
	if err != nil {
		return err
	}

	clusters := o.FederationClient.FederationV1beta1().Clusters()
	cluster := &federationv1beta1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: o.ClusterName},
		Spec: federationv1beta1.ClusterSpec{
			ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{{ClientCIDR: AllClientsCIDR, ServerAddress: o.Member.Server}},
			SecretRef:                  &federationv1beta1.LocalObjectReference{Name: o.SecretName},
		},
	}
	return o.ensure(ctx, j, object{
		target: o.Federation, federation: true, desc: fmt.Sprintf("Cluster %s (server %s)", o.ClusterName, o.Member.Server),
		manual: o.kubectl(o.HostClusterContext) + " delete cluster " + o.ClusterName,
		get: func(ctx context.Context) (metav1.Object, error) {
			return clusters.Get(ctx, o.ClusterName, metav1.GetOptions{})
		},
		create: func(ctx context.Context) error {
			_, err := clusters.Create(ctx, cluster, metav1.CreateOptions{})
			return err
		},
		delete: func(ctx context.Context) error { return clusters.Delete(ctx, o.ClusterName, metav1.DeleteOptions{}) },
		// checkFederation found none a moment ago: someone else is
		// joining it right now.
		owned:    func(metav1.Object) bool { return false },
		notOwned: "someone created it while this join ran; check it with kubectl get clusters",
	})
}

// object is one thing join makes sure exists.
type object struct {
	target clioptions.Target
	// federation says it is an object of the federation, not of the member.
	federation bool
	// desc names it in progress lines: "ClusterRole federation-controller-manager".
	desc string
	// manual is the kubectl command that deletes it.
	manual string
	get    func(context.Context) (metav1.Object, error)
	create func(context.Context) error
	delete func(context.Context) error
	// owned says whether an existing object is one kubefed join made for
	// this federation, left over from an earlier run that failed; such an
	// object is reused (and brought up to date by update, if set).
	owned  func(metav1.Object) bool
	update func(context.Context, metav1.Object) (changed bool, err error)
	// notOwned says why an existing object that is not ours is in the way.
	notOwned string
	// forbidden explains a refused create beyond the API's message.
	forbidden string
}

// ensure creates obj unless it exists, recording the creation in j.
func (o *JoinOptions) ensure(ctx context.Context, j *journal, obj object) error {
	where := "in " + o.ClusterName
	if obj.federation {
		where = "in the federation"
	}
	cur, err := obj.get(ctx)
	switch {
	case apierrors.IsNotFound(err):
		if o.DryRun {
			fmt.Fprintf(o.Out, "Would create %s %s\n", obj.desc, where)
			return nil
		}
		if err := obj.create(ctx); err != nil {
			err = fmt.Errorf("create %s: %w", obj.desc, err)
			if apierrors.IsForbidden(err) && obj.forbidden != "" {
				return fmt.Errorf("%s refused: %w; %s", obj.target.What, err, obj.forbidden)
			}
			return obj.target.Explain(err)
		}
		j.created(obj.desc+" "+where, obj.manual, obj.delete)
		fmt.Fprintf(o.Out, "Created %s %s\n", obj.desc, where)
		return nil
	case err != nil:
		return obj.target.Explain(fmt.Errorf("get %s: %w", obj.desc, err))
	case !obj.owned(cur):
		why := obj.notOwned
		if why == "" {
			why = fmt.Sprintf("it was not created by kubefed join for federation %q (no label %s=%s); delete it, or join with another --federation-name", o.FederationName, JoinedByLabel, o.FederationName)
		}
		return fmt.Errorf("%s already exists %s: %s", obj.desc, where, why)
	case obj.update == nil:
		fmt.Fprintf(o.Out, "Using the existing %s %s\n", obj.desc, where)
		return nil
	case o.DryRun:
		fmt.Fprintf(o.Out, "Would update the existing %s %s if it differs\n", obj.desc, where)
		return nil
	default:
		changed, err := obj.update(ctx, cur)
		if err != nil {
			return obj.target.Explain(fmt.Errorf("update %s: %w", obj.desc, err))
		}
		if changed {
			fmt.Fprintf(o.Out, "Updated the existing %s %s\n", obj.desc, where)
		} else {
			fmt.Fprintf(o.Out, "Using the existing %s %s\n", obj.desc, where)
		}
		return nil
	}
}

func (o *JoinOptions) joinedByUs(m metav1.Object) bool {
	return m.GetLabels()[JoinedByLabel] == o.FederationName
}

// kubectl is the kubectl invocation for a context, for commands printed to
// the user.
func (o *JoinOptions) kubectl(context string) string {
	return Kubectl(o.kubeconfigPath, context)
}

// Kubectl is how messages tell the user to run kubectl against a context,
// with the same --kubeconfig kubefed was given.
func Kubectl(kubeconfig, context string) string {
	var b bytes.Buffer
	b.WriteString("kubectl")
	if kubeconfig != "" {
		b.WriteString(" --kubeconfig=" + kubeconfig)
	}
	b.WriteString(" --context=" + context)
	return b.String()
}

// SameServer says whether two API server addresses name the same server,
// as the controllers read them: "https://" is implied, a trailing slash and
// port 443 do not count.
func SameServer(a, b string) bool {
	return normalizeServer(a) == normalizeServer(b)
}

func normalizeServer(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	s = strings.TrimSuffix(s, ":443")
	return strings.ToLower(s)
}
