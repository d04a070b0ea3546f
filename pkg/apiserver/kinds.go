package apiserver

import (
	"fmt"

	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	daemonsetstore "k8s.io/kubernetes/pkg/registry/apps/daemonset/storage"
	deploymentstore "k8s.io/kubernetes/pkg/registry/apps/deployment/storage"
	replicasetstore "k8s.io/kubernetes/pkg/registry/apps/replicaset/storage"
	ingressstore "k8s.io/kubernetes/pkg/registry/networking/ingress/storage"
	ingressclassstore "k8s.io/kubernetes/pkg/registry/networking/ingressclass/storage"
	clusterrolestore "k8s.io/kubernetes/pkg/registry/rbac/clusterrole/storage"
	clusterrolebindingstore "k8s.io/kubernetes/pkg/registry/rbac/clusterrolebinding/storage"
	rolestore "k8s.io/kubernetes/pkg/registry/rbac/role/storage"
	rolebindingstore "k8s.io/kubernetes/pkg/registry/rbac/rolebinding/storage"
)

// The storage of the kinds that more than one version serves. Each kind has
// one storage (one etcd prefix, one watch cache), kept in today's version;
// every version that serves the kind is given the same storage, and the
// API machinery converts each request from and to its version, as
// kube-apiserver did while it served them.

// workloadStorage is the storage of the apps kinds.
type workloadStorage struct {
	replicaSets          replicasetstore.ReplicaSetStorage
	deployments          deploymentstore.DeploymentStorage
	daemonSets, dsStatus rest.Storage
}

func newWorkloadStorage(getter generic.RESTOptionsGetter) (*workloadStorage, error) {
	rs, err := replicasetstore.NewStorage(getter)
	if err != nil {
		return nil, fmt.Errorf("replicasets: %w", err)
	}
	deploy, err := deploymentstore.NewStorage(getter)
	if err != nil {
		return nil, fmt.Errorf("deployments: %w", err)
	}
	ds, dsStatus, err := daemonsetstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("daemonsets: %w", err)
	}
	return &workloadStorage{replicaSets: rs, deployments: deploy, daemonSets: ds, dsStatus: dsStatus}, nil
}

func (w *workloadStorage) replicaSetResources() map[string]rest.Storage {
	return map[string]rest.Storage{
		"replicasets":        w.replicaSets.ReplicaSet,
		"replicasets/status": w.replicaSets.Status,
		"replicasets/scale":  w.replicaSets.Scale,
	}
}

// deploymentResources leave out deployments/rollback (extensions/v1beta1
// and apps/v1beta1): a rollback is done by a Deployment controller from its
// ReplicaSets' history, which the federation does not have.
func (w *workloadStorage) deploymentResources() map[string]rest.Storage {
	return map[string]rest.Storage{
		"deployments":        w.deployments.Deployment,
		"deployments/status": w.deployments.Status,
		"deployments/scale":  w.deployments.Scale,
	}
}

func (w *workloadStorage) daemonSetResources() map[string]rest.Storage {
	return map[string]rest.Storage{
		"daemonsets":        w.daemonSets,
		"daemonsets/status": w.dsStatus,
	}
}

func (w *workloadStorage) all() map[string]rest.Storage {
	return merge(w.replicaSetResources(), w.deploymentResources(), w.daemonSetResources())
}

// ingressStorage is the storage of Ingresses and IngressClasses.
type ingressStorage struct {
	ingresses, status, classes rest.Storage
}

func newIngressStorage(getter generic.RESTOptionsGetter) (*ingressStorage, error) {
	ing, ingStatus, err := ingressstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("ingresses: %w", err)
	}
	classes, err := ingressclassstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("ingressclasses: %w", err)
	}
	return &ingressStorage{ingresses: ing, status: ingStatus, classes: classes}, nil
}

func (i *ingressStorage) ingressResources() map[string]rest.Storage {
	return map[string]rest.Storage{
		"ingresses":        i.ingresses,
		"ingresses/status": i.status,
	}
}

func (i *ingressStorage) all() map[string]rest.Storage {
	return merge(i.ingressResources(), map[string]rest.Storage{"ingressclasses": i.classes})
}

// newRBACStorage is the storage of the four RBAC kinds. They are served
// and propagated as templates for the members: the federation's own
// authorization never reads them (see docs/user-guide.md, "RBAC objects"),
// so kube-apiserver's escalation check, which compares a new role with the
// writer's rights in the same server, does not apply.
func newRBACStorage(getter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	roles, err := rolestore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	bindings, err := rolebindingstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("rolebindings: %w", err)
	}
	clusterRoles, err := clusterrolestore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("clusterroles: %w", err)
	}
	clusterBindings, err := clusterrolebindingstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("clusterrolebindings: %w", err)
	}
	return map[string]rest.Storage{
		"roles":               roles,
		"rolebindings":        bindings,
		"clusterroles":        clusterRoles,
		"clusterrolebindings": clusterBindings,
	}, nil
}

func merge(maps ...map[string]rest.Storage) map[string]rest.Storage {
	out := map[string]rest.Storage{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
