package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"sigs.k8s.io/yaml"
)

// The fuzz targets below feed arbitrary bytes to the decoder every request
// body goes through, and send whatever decodes into a served kind through
// what the server does next: defaulting, conversion to the internal type,
// and a dry-run create on the very storage the server installs (so the
// strategy's PrepareForCreate, Validate, WarningsOnCreate and Canonicalize,
// and the encoding to the storage version), then the update validation and
// the encoding of the response. A panic anywhere in that path would be a
// request that kills a goroutine of the federation-apiserver, so each
// target asserts only that nothing panics.
//
// Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzDecodeApps$' -fuzztime 30s -fuzzminimizetime 2s ./pkg/apiserver/
//
// The instrumented binary holds most of Kubernetes, so an execution costs
// milliseconds; with the default -fuzzminimizetime (60s) a short run spends
// its time minimizing new inputs rather than fuzzing.

// FuzzDecodeCore covers namespaces, services, secrets, configmaps, service
// accounts, events.
func FuzzDecodeCore(f *testing.F) { fuzzGroup(f, "") }

// FuzzDecodeApps covers replicasets, deployments and daemonsets, in
// apps/v1, v1beta2 and v1beta1.
func FuzzDecodeApps(f *testing.F) { fuzzGroup(f, "apps") }

// FuzzDecodeExtensions covers the extensions/v1beta1 kinds.
func FuzzDecodeExtensions(f *testing.F) { fuzzGroup(f, "extensions") }

// FuzzDecodeNetworking covers ingresses and ingressclasses, v1 and v1beta1.
func FuzzDecodeNetworking(f *testing.F) { fuzzGroup(f, "networking.k8s.io") }

// FuzzDecodeRBAC covers the four RBAC kinds, v1 and v1beta1.
func FuzzDecodeRBAC(f *testing.F) { fuzzGroup(f, "rbac.authorization.k8s.io") }

// FuzzDecodeBatch covers jobs.
func FuzzDecodeBatch(f *testing.F) { fuzzGroup(f, "batch") }

// FuzzDecodeCoordination covers leases.
func FuzzDecodeCoordination(f *testing.F) { fuzzGroup(f, "coordination.k8s.io") }

// FuzzDecodeFederation covers clusters and propagations.
func FuzzDecodeFederation(f *testing.F) { fuzzGroup(f, "federation.k8s.io") }

// seeds are valid JSON bodies of every served kind, by group.
var seeds = map[string][]string{
	"": {
		`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","labels":{"team":"a"}},"spec":{"finalizers":["kubernetes"]}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"},{"name":"dns","port":53,"protocol":"UDP"}]}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","externalTrafficPolicy":"Local","loadBalancerSourceRanges":["10.0.0.0/8"],"ports":[{"port":443,"nodePort":30443}],"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}}}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"headless"},"spec":{"clusterIP":"None","clusterIPs":["None"],"ipFamilyPolicy":"RequireDualStack","ipFamilies":["IPv4","IPv6"],"ports":[{"port":5432}]}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"tls"},"type":"kubernetes.io/tls","data":{"tls.crt":"Y2VydA==","tls.key":"a2V5"},"stringData":{"extra":"x"}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"pull"},"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"eyJhdXRocyI6e319"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","annotations":{"a":"b"}},"data":{"k":"v"},"binaryData":{"b":"AAEC"},"immutable":true}`,
		`{"apiVersion":"v1","kind":"Event","metadata":{"name":"e.1"},"involvedObject":{"kind":"ConfigMap","name":"cfg","namespace":"default"},"reason":"Synced","message":"ok","type":"Normal","count":2,"firstTimestamp":"2024-01-02T03:04:05Z","source":{"component":"c"}}`,
		`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"traefik"},"secrets":[{"name":"s"}],"imagePullSecrets":[{"name":"pull"}],"automountServiceAccountToken":false}`,
		`{"apiVersion":"v1","kind":"Event","metadata":{"name":"e.2"},"involvedObject":{"kind":"ConfigMap","name":"cfg","namespace":"default"},"eventTime":"2024-01-02T03:04:05.000000Z","reportingComponent":"example.com/c","reportingInstance":"i","action":"Sync","reason":"Synced","type":"Warning","series":{"count":2,"lastObservedTime":"2024-01-02T03:04:06.000000Z"}}`,
	},
	"apps": {
		`{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs"},"spec":{"replicas":3,"minReadySeconds":1,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["a"]}]},"template":{"metadata":{"labels":{"app":"web","tier":"a"}},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}],"resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"memory":"128Mi"}}}]}}}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","annotations":{"federation.kubernetes.io/deployment-preferences":"{\"clusters\":{\"*\":{\"weight\":1}}}"}},"spec":{"replicas":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},"progressDeadlineSeconds":60,"revisionHistoryLimit":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"initContainers":[{"name":"init","image":"busybox","command":["true"]}],"containers":[{"name":"web","image":"nginx","env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],"volumeMounts":[{"name":"cfg","mountPath":"/etc/cfg"}],"livenessProbe":{"httpGet":{"path":"/","port":80},"periodSeconds":5},"securityContext":{"runAsNonRoot":true,"capabilities":{"drop":["ALL"]}}}],"volumes":[{"name":"cfg","configMap":{"name":"cfg"}}],"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["z"]}]}]}}},"tolerations":[{"operator":"Exists"}]}}}}`,
		`{"apiVersion":"apps/v1beta1","kind":"Deployment","metadata":{"name":"old"},"spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"old"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`,
		`{"apiVersion":"apps/v1beta2","kind":"Deployment","metadata":{"name":"old2"},"spec":{"selector":{"matchLabels":{"app":"old"}},"template":{"metadata":{"labels":{"app":"old"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`,
		`{"apiVersion":"apps/v1beta2","kind":"ReplicaSet","metadata":{"name":"old2"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"old"}},"template":{"metadata":{"labels":{"app":"old"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`,
		`{"apiVersion":"apps/v1beta2","kind":"DaemonSet","metadata":{"name":"old2"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"agent","image":"agent:1"}]}}}}`,
		`{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds"},"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"hostNetwork":true,"containers":[{"name":"agent","image":"agent:1","ports":[{"containerPort":9100,"hostPort":9100}]}]}}}}`,
	},
	"extensions": {
		`{"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"name":"old"},"spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"old"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`,
		`{"apiVersion":"extensions/v1beta1","kind":"ReplicaSet","metadata":{"name":"old"},"spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"old"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`,
		`{"apiVersion":"extensions/v1beta1","kind":"DaemonSet","metadata":{"name":"traefik"},"spec":{"templateGeneration":2,"template":{"metadata":{"labels":{"k8s-app":"traefik"}},"spec":{"hostNetwork":true,"nodeSelector":{"edgenode":"true"},"containers":[{"name":"traefik","image":"traefik:1.7","args":["--api","--kubernetes"],"ports":[{"containerPort":80,"hostPort":80}]}]}}}}`,
		`{"apiVersion":"extensions/v1beta1","kind":"Ingress","metadata":{"name":"old"},"spec":{"backend":{"serviceName":"web","servicePort":80},"rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","backend":{"serviceName":"web","servicePort":"http"}}]}}]}}`,
	},
	"networking.k8s.io": {
		`{"apiVersion":"networking.k8s.io/v1beta1","kind":"Ingress","metadata":{"name":"old"},"spec":{"ingressClassName":"nginx","rules":[{"http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"serviceName":"web","servicePort":8080}}]}}]}}`,
		`{"apiVersion":"networking.k8s.io/v1beta1","kind":"IngressClass","metadata":{"name":"old"},"spec":{"controller":"example.com/ingress"}}`,
		`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing"},"spec":{"ingressClassName":"nginx","tls":[{"hosts":["*.example.com"],"secretName":"tls"}],"defaultBackend":{"service":{"name":"web","port":{"number":80}}},"rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"name":"http"}}}},{"path":"/static","pathType":"ImplementationSpecific","backend":{"resource":{"apiGroup":"example.com","kind":"Bucket","name":"b"}}}]}}]}}`,
		`{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"nginx","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},"spec":{"controller":"k8s.io/ingress-nginx","parameters":{"apiGroup":"k8s.example.com","kind":"IngressParameters","name":"external-lb","scope":"Namespace","namespace":"ingress-nginx"}}}`,
	},
	"rbac.authorization.k8s.io": {
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"traefik"},"rules":[{"apiGroups":[""],"resources":["services","endpoints","secrets"],"verbs":["get","list","watch"]},{"nonResourceURLs":["/metrics"],"verbs":["get"]}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"traefik"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"traefik","namespace":"kube-system"},{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"eve"}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"},"rules":[{"apiGroups":["apps"],"resources":["deployments/scale"],"resourceNames":["web"],"verbs":["update"]}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1beta1","kind":"ClusterRole","metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"rbac.example.com/aggregate":"true"}}]}}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1beta1","kind":"ClusterRoleBinding","metadata":{"name":"old"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"traefik","namespace":"kube-system"}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1beta1","kind":"Role","metadata":{"name":"old"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1beta1","kind":"RoleBinding","metadata":{"name":"old"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"old"},"subjects":[{"kind":"ServiceAccount","name":"default"}]}`,
	},
	"batch": {
		`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"job","annotations":{"federation.kubernetes.io/job-preferences":"{\"clusters\":{\"c1\":{\"minReplicas\":1,\"maxReplicas\":3}}}"}},"spec":{"parallelism":3,"completions":6,"completionMode":"Indexed","backoffLimit":2,"activeDeadlineSeconds":600,"ttlSecondsAfterFinished":60,"podFailurePolicy":{"rules":[{"action":"FailJob","onExitCodes":{"operator":"In","values":[42]}}]},"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"w","image":"busybox"}]}}}}`,
		`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"manual"},"spec":{"manualSelector":true,"suspend":true,"selector":{"matchLabels":{"job":"m"}},"template":{"metadata":{"labels":{"job":"m"}},"spec":{"restartPolicy":"OnFailure","containers":[{"name":"w","image":"busybox"}]}}}}`,
	},
	"coordination.k8s.io": {
		`{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"},"spec":{"holderIdentity":"h","leaseDurationSeconds":15,"leaseTransitions":1,"acquireTime":"2024-01-02T03:04:05.000000Z","renewTime":"2024-01-02T03:04:06.000000Z"}}`,
	},
	"federation.k8s.io": {
		`{"apiVersion":"federation.k8s.io/v1beta1","kind":"Cluster","metadata":{"name":"c1","labels":{"region":"eu"}},"spec":{"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"https://10.0.0.1:6443"}],"secretRef":{"name":"c1"}}}`,
		`{"apiVersion":"federation.k8s.io/v1beta1","kind":"Propagation","metadata":{"name":"deployments.apps.web"},"status":{"object":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"generation":2,"clusters":[{"cluster":"c1","state":"Propagated","generation":2,"replicas":3,"readyReplicas":3,"lastTransitionTime":"2024-01-02T03:04:05Z"},{"cluster":"c2","state":"Failed","reason":"Forbidden","message":"m"}]}}`,
	},
}

func fuzzGroup(f *testing.F, group string) {
	served, err := servedStorage()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds[group] {
		for _, data := range encodings(f, []byte(s)) {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, gvk, err := legacyscheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
		if err != nil || gvk.Group != group {
			return
		}
		if sk, ok := served[*gvk]; ok {
			_, _ = sk.exercise(t, obj)
		}
	})
}

// TestFuzzSeeds checks the fuzz targets' harness: every served kind has a
// seed, and every seed goes all the way through a dry-run create, so the
// targets do reach validation and storage encoding.
func TestFuzzSeeds(t *testing.T) {
	served, err := servedStorage()
	if err != nil {
		t.Fatal(err)
	}
	seeded := map[schema.GroupVersionKind]bool{}
	for group, bodies := range seeds {
		for _, body := range bodies {
			obj, gvk, err := legacyscheme.Codecs.UniversalDeserializer().Decode([]byte(body), nil, nil)
			if err != nil {
				t.Fatalf("seed does not decode: %v: %s", err, body)
			}
			sk, ok := served[*gvk]
			if !ok || gvk.Group != group {
				t.Fatalf("seed of group %q is not a served kind of that group: %s", group, gvk)
			}
			createErr, updateErr := sk.exercise(t, obj)
			if createErr != nil {
				t.Errorf("seed %s: dry-run create: %v", body[:min(len(body), 80)], createErr)
			}
			// A Job whose selector the server generated cannot be replaced
			// by a body without it, on kube-apiserver either.
			generatedSelector := gvk.Kind == "Job" && !strings.Contains(body, `"manualSelector":true`)
			if updateErr != nil && !generatedSelector {
				t.Errorf("seed %s: update validation: %v", body[:min(len(body), 80)], updateErr)
			}
			seeded[*gvk] = true
		}
	}
	for gvk := range served {
		if !seeded[gvk] {
			t.Errorf("served kind %s has no fuzz seed", gvk)
		}
	}
}

// encodings are the seed as JSON, YAML and, where the kind has one,
// protobuf: the deserializer recognises all three, and the server accepts
// all three.
func encodings(f *testing.F, jsonData []byte) [][]byte {
	obj, _, err := legacyscheme.Codecs.UniversalDeserializer().Decode(jsonData, nil, nil)
	if err != nil {
		f.Fatalf("seed does not decode: %v: %s", err, jsonData)
	}
	out := [][]byte{jsonData}
	y, err := yaml.JSONToYAML(jsonData)
	if err != nil {
		f.Fatal(err)
	}
	out = append(out, y)
	if p, err := runtime.Encode(protobuf.NewSerializer(legacyscheme.Scheme, legacyscheme.Scheme), obj); err == nil {
		out = append(out, p)
	}
	return out
}

// servedKind is a kind the server serves, with the storage it installs.
type servedKind struct {
	version  schema.GroupVersion
	resource string
	storage  rest.Storage
}

// exercise does what the server does with a decoded body of this kind, and
// returns the errors the server would answer a create of it with, and a
// replace of the created object by it.
func (sk servedKind) exercise(t *testing.T, obj runtime.Object) (createErr, updateErr error) {
	legacyscheme.Scheme.Default(obj)
	internalObj, err := legacyscheme.Scheme.ConvertToVersion(obj, schema.GroupVersion{Group: sk.version.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		return err, nil // the server answers 400
	}
	ns := ""
	if scoper, ok := sk.storage.(rest.Scoper); ok && scoper.NamespaceScoped() {
		ns = "default"
	}
	ctx := genericapirequest.WithNamespace(context.Background(), ns)
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: "create", APIGroup: sk.version.Group, APIVersion: sk.version.Version,
		Namespace: ns, Resource: sk.resource,
	})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	// The create changes the object (name generation, status reset); the
	// update below starts again from what was decoded.
	pristine := internalObj.DeepCopyObject()

	creator, ok := sk.storage.(rest.Creater)
	if !ok {
		t.Fatalf("%s storage cannot create", sk.resource)
	}
	out, err := creator.Create(ctx, internalObj, rest.ValidateAllObjectFunc, &metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		if errors.Is(err, errNoStorage) {
			t.Fatalf("the dry-run create of %s reached storage: %v", sk.resource, err)
		}
		return err, nil
	}
	// The answer is written in the request's version.
	if _, err := runtime.Encode(legacyscheme.Codecs.LegacyCodec(sk.version), out); err != nil {
		t.Fatalf("encode the created %s: %v", sk.resource, err)
	}

	// A replace of the created object by the decoded body: the update
	// strategy's preparation and validation, with the old object as the
	// create stored it.
	if u, ok := sk.storage.(interface {
		GetUpdateStrategy() rest.RESTUpdateStrategy
	}); ok {
		old, newMeta, oldMeta := out, pristine.(metav1.Object), out.(metav1.Object)
		oldMeta.SetResourceVersion("1")
		newMeta.SetName(oldMeta.GetName())
		newMeta.SetNamespace(oldMeta.GetNamespace())
		newMeta.SetResourceVersion("1")
		updateCtx := genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
			IsResourceRequest: true, Verb: "update", APIGroup: sk.version.Group, APIVersion: sk.version.Version,
			Namespace: ns, Resource: sk.resource, Name: oldMeta.GetName(),
		})
		updateErr = rest.BeforeUpdate(u.GetUpdateStrategy(), updateCtx, pristine, old)
	}
	return nil, updateErr
}

var (
	servedOnce  sync.Once
	servedKinds map[schema.GroupVersionKind]servedKind
	servedErr   error
)

// servedStorage builds, once, the storage of every served resource exactly
// as New installs it, on a storage that holds nothing, and maps each kind,
// in each version that serves it, to it.
func servedStorage() (map[schema.GroupVersionKind]servedKind, error) {
	servedOnce.Do(func() {
		// Validation logs at level 0 when declarative and hand-written
		// validation both report an error; millions of fuzz inputs
		// would drown the fuzzer's own output.
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
		core, err := coreGroup(noStorageGetter{}, time.Hour)
		if err != nil {
			servedErr = err
			return
		}
		named, err := namedGroups(noStorageGetter{})
		if err != nil {
			servedErr = err
			return
		}
		servedKinds = map[schema.GroupVersionKind]servedKind{}
		for _, info := range append(named, core) {
			group := info.PrioritizedVersions[0].Group
			for version, resources := range info.VersionedResourcesStorageMap {
				for resource, s := range resources {
					if strings.Contains(resource, "/") {
						continue // subresources
					}
					kinds, _, err := legacyscheme.Scheme.ObjectKinds(s.New())
					if err != nil {
						servedErr = fmt.Errorf("%s: %w", resource, err)
						return
					}
					gv := schema.GroupVersion{Group: group, Version: version}
					servedKinds[gv.WithKind(kinds[0].Kind)] = servedKind{version: gv, resource: resource, storage: s}
				}
			}
		}
	})
	return servedKinds, servedErr
}

// errNoStorage is what noStorage answers to anything but a Get: a dry run
// must not write.
var errNoStorage = errors.New("fuzz: no storage")

// noStorageGetter gives every resource a storage that holds nothing, so that
// the real REST storage can be built and dry-run creates go through it.
type noStorageGetter struct{}

func (noStorageGetter) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	return generic.RESTOptions{
		StorageConfig: &storagebackend.ConfigForResource{
			GroupResource: resource,
			Config:        storagebackend.Config{Codec: legacyscheme.Codecs.LegacyCodec(ServedGroupVersions...)},
		},
		Decorator: func(*storagebackend.ConfigForResource, string, func(runtime.Object) (string, error),
			func() runtime.Object, func() runtime.Object, storage.AttrFunc, storage.IndexerFuncs, *cache.Indexers,
		) (storage.Interface, factory.DestroyFunc, error) {
			return noStorage{}, func() {}, nil
		},
		ResourcePrefix: "/" + resource.Group + "/" + resource.Resource,
	}, nil
}

// noStorage is empty: Get finds nothing; everything else fails.
type noStorage struct {
	// The embedded nil interface makes any method a dry run should not
	// call panic, which the fuzz target then reports.
	storage.Interface
}

func (noStorage) Get(_ context.Context, key string, _ storage.GetOptions, _ runtime.Object) error {
	return storage.NewKeyNotFoundError(key, 0)
}

func (noStorage) Create(context.Context, string, runtime.Object, runtime.Object, uint64) error {
	return errNoStorage
}

func (noStorage) Versioner() storage.Versioner { return storage.APIObjectVersioner{} }
