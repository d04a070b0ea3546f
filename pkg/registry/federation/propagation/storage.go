package propagation

import (
	"fmt"
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
)

// REST is the storage of /apis/federation.k8s.io/v1beta1/namespaces/{ns}/propagations.
type REST struct {
	*genericregistry.Store
}

var _ rest.ShortNamesProvider = &REST{}
var _ rest.CategoriesProvider = &REST{}

// ShortNames lets `kubectl get prop` work.
func (r *REST) ShortNames() []string { return []string{"prop"} }

// Categories puts propagations in `kubectl get federation`.
func (r *REST) Categories() []string { return []string{"federation"} }

// NewREST returns the storage of propagations.
func NewREST(optsGetter generic.RESTOptionsGetter) (*REST, error) {
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &federation.Propagation{} },
		NewListFunc:               func() runtime.Object { return &federation.PropagationList{} },
		PredicateFunc:             Matcher,
		DefaultQualifiedResource:  federation.Resource("propagations"),
		SingularQualifiedResource: federation.Resource("propagation"),
		CreateStrategy:            Strategy,
		UpdateStrategy:            Strategy,
		DeleteStrategy:            Strategy,
		TableConvertor:            printerstorage.TableConvertor{TableGenerator: printers.NewTableGenerator().With(addHandlers)},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, err
	}
	return &REST{store}, nil
}

func addHandlers(h printers.PrintHandler) {
	columns := []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: "The federated object's kind and name."},
		{Name: "Propagated", Type: "string", Description: "Clusters whose copy matches the federated object, of the clusters it is meant for."},
		{Name: "Pending", Type: "string", Description: "Clusters the copy has not reached yet, and why (e.g. cluster not Ready)."},
		{Name: "Failed", Type: "string", Description: "Clusters that refused the copy; kubectl describe shows their errors."},
		{Name: "Age", Type: "string", Description: "Time since the object was first synced."},
		{Name: "Generation", Type: "integer", Priority: 1, Description: "The federated object's generation when last synced."},
		{Name: "Message", Type: "string", Priority: 1, Description: "The first failure or pending reason."},
		{Name: "Replicas", Type: "string", Priority: 1, Description: "For workloads: per cluster, ready of planned replicas."},
	}
	_ = h.TableHandler(columns, printPropagation)
	_ = h.TableHandler(columns, printPropagationList)
}

func printPropagationList(list *federation.PropagationList, options printers.GenerateOptions) ([]metav1.TableRow, error) {
	rows := make([]metav1.TableRow, 0, len(list.Items))
	for i := range list.Items {
		r, err := printPropagation(&list.Items[i], options)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

func printPropagation(p *federation.Propagation, options printers.GenerateOptions) ([]metav1.TableRow, error) {
	row := metav1.TableRow{Object: runtime.RawExtension{Object: p}}
	var propagated, meant int
	var pending, failed []string
	message := ""
	for _, c := range p.Status.Clusters {
		if c.State != federation.PropagationExcluded {
			meant++
		}
		switch c.State {
		case federation.PropagationPropagated:
			propagated++
		case federation.PropagationPending:
			pending = append(pending, c.Cluster)
		case federation.PropagationFailed:
			failed = append(failed, c.Cluster)
		}
		if message == "" && (c.State == federation.PropagationFailed || c.State == federation.PropagationPending) {
			message = fmt.Sprintf("%s: %s", c.Cluster, c.Message)
		}
	}
	sort.Strings(pending)
	sort.Strings(failed)
	age := "<unknown>"
	if !p.CreationTimestamp.IsZero() {
		age = duration.HumanDuration(metav1.Now().Sub(p.CreationTimestamp.Time))
	}
	row.Cells = append(row.Cells, p.Name, fmt.Sprintf("%d/%d", propagated, meant), orNone(pending), orNone(failed), age)
	if options.Wide {
		if message == "" {
			message = "<none>"
		}
		var replicas []string
		for _, c := range p.Status.Clusters {
			if c.Replicas != nil {
				ready := int64(0)
				if c.ReadyReplicas != nil {
					ready = *c.ReadyReplicas
				}
				replicas = append(replicas, fmt.Sprintf("%s=%d/%d", c.Cluster, ready, *c.Replicas))
			}
		}
		row.Cells = append(row.Cells, p.Status.Generation, message, orNone(replicas))
	}
	return []metav1.TableRow{row}, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "<none>"
	}
	return strings.Join(s, ",")
}
