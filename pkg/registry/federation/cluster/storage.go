package cluster

import (
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/printers"
	printerstorage "k8s.io/kubernetes/pkg/printers/storage"

	"github.com/kfederation/federation/pkg/apis/federation"
	"github.com/kfederation/federation/pkg/registry/statusrest"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// REST is the storage of /apis/federation.k8s.io/v1beta1/clusters.
type REST struct {
	*genericregistry.Store
}

var _ rest.ShortNamesProvider = &REST{}
var _ rest.CategoriesProvider = &REST{}

// ShortNames lets `kubectl get cl` work.
func (r *REST) ShortNames() []string { return []string{"cl"} }

// Categories puts clusters in `kubectl get federation`.
func (r *REST) Categories() []string { return []string{"federation"} }

// NewREST returns the storage of clusters and of their status subresource.
func NewREST(optsGetter generic.RESTOptionsGetter) (*REST, *statusrest.REST, error) {
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &federation.Cluster{} },
		NewListFunc:               func() runtime.Object { return &federation.ClusterList{} },
		PredicateFunc:             Matcher,
		DefaultQualifiedResource:  federation.Resource("clusters"),
		SingularQualifiedResource: federation.Resource("cluster"),

		CreateStrategy:      Strategy,
		UpdateStrategy:      Strategy,
		DeleteStrategy:      Strategy,
		ResetFieldsStrategy: Strategy,

		TableConvertor: printerstorage.TableConvertor{TableGenerator: printers.NewTableGenerator().With(addHandlers)},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, nil, err
	}
	return &REST{store}, statusrest.New(store, StatusStrategy), nil
}

func addHandlers(h printers.PrintHandler) {
	columns := []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: "Name of the member cluster."},
		{Name: "Status", Type: "string", Description: "Ready, NotReady, Offline or Unknown, from the cluster's conditions."},
		{Name: "Server Address", Type: "string", Description: "The member API server's address for clients anywhere (0.0.0.0/0), else the first address."},
		{Name: "Age", Type: "string", Description: "Time since the cluster was registered."},
		{Name: "Zones", Type: "string", Priority: 1, Description: "Zones of the member's nodes."},
		{Name: "Region", Type: "string", Priority: 1, Description: "Region of the member's nodes."},
	}
	_ = h.TableHandler(columns, printCluster)
	_ = h.TableHandler(columns, printClusterList)
}

func printClusterList(list *federation.ClusterList, options printers.GenerateOptions) ([]metav1.TableRow, error) {
	rows := make([]metav1.TableRow, 0, len(list.Items))
	for i := range list.Items {
		r, err := printCluster(&list.Items[i], options)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

func printCluster(c *federation.Cluster, options printers.GenerateOptions) ([]metav1.TableRow, error) {
	row := metav1.TableRow{Object: runtime.RawExtension{Object: c}}
	age := "<unknown>"
	if !c.CreationTimestamp.IsZero() {
		age = duration.HumanDuration(metav1.Now().Sub(c.CreationTimestamp.Time))
	}
	row.Cells = append(row.Cells, c.Name, StatusSummary(&c.Status), serverAddress(&c.Spec), age)
	if options.Wide {
		zones := append([]string(nil), c.Status.Zones...)
		sort.Strings(zones)
		z := strings.Join(zones, ",")
		if z == "" {
			z = "<none>"
		}
		region := c.Status.Region
		if region == "" {
			region = "<none>"
		}
		row.Cells = append(row.Cells, z, region)
	}
	return []metav1.TableRow{row}, nil
}

// StatusSummary condenses a Cluster's conditions into the one word
// `kubectl get clusters` shows: Offline wins over Ready, and a cluster the
// controller has not probed yet is Unknown.
func StatusSummary(s *federation.ClusterStatus) string {
	var ready, offline *federation.ClusterCondition
	for i := range s.Conditions {
		switch s.Conditions[i].Type {
		case federation.ClusterReady:
			ready = &s.Conditions[i]
		case federation.ClusterOffline:
			offline = &s.Conditions[i]
		}
	}
	switch {
	case offline != nil && offline.Status == federation.ConditionTrue:
		return "Offline"
	case ready == nil || ready.Status == federation.ConditionUnknown:
		return "Unknown"
	case ready.Status == federation.ConditionTrue:
		return "Ready"
	default:
		return "NotReady"
	}
}

func serverAddress(spec *federation.ClusterSpec) string {
	addrs := make([]federationv1beta1.ServerAddressByClientCIDR, len(spec.ServerAddressByClientCIDRs))
	for i, a := range spec.ServerAddressByClientCIDRs {
		addrs[i] = federationv1beta1.ServerAddressByClientCIDR(a)
	}
	if addr := federationv1beta1.PreferredServerAddress(addrs); addr != "" {
		return addr
	}
	return "<none>"
}
