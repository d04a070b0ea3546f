package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

// customResourceDefinitionsPath is the collection kube-apiserver serves
// CustomResourceDefinitions at.
const customResourceDefinitionsPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

var customResourceDefinitions = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}

// installNoCustomResources answers a list of CustomResourceDefinitions with
// an empty list: the federation serves no custom resources, and says so
// when asked the way kubectl and Helm ask.
//
// Why it exists: before sending an object, kubectl and Helm (through
// k8s.io/cli-runtime's QueryParamVerifier, which decides whether to ask for
// server-side field validation) look the object's kind up in the server's
// OpenAPI. When the kind is absent from /openapi/v3 while its group-version
// is there (a ServiceAccount when /api/v1 has no serviceaccounts, say), they
// fall back to /openapi/v2, and when the kind is absent there too they
// assume it may be a custom resource and list
// apiextensions.k8s.io/v1/customresourcedefinitions to find out. This server
// serves no apiextensions.k8s.io group, so that list used to get a 404 and
// the client gave up with "failed to check CRD: failed to list CRDs: the
// server could not find the requested resource" instead of kube-apiserver's
// plain `no matches for kind "ServiceAccount" in version "v1"`. With an
// empty list the client finds no such CRD and reports the kind as unknown,
// as it would against a kube-apiserver without that kind.
//
// Only GET of the collection is answered; everything else (a watch, a
// create, a delete) is refused as not supported. The group is deliberately
// not in discovery, so clients still cannot map, and so cannot create, a
// CustomResourceDefinition here. The handler sits behind the generic
// server's filters, so the request is authenticated and authorized as a
// list of customresourcedefinitions in apiextensions.k8s.io, as in
// kube-apiserver.
func installNoCustomResources(s *genericapiserver.GenericAPIServer) {
	s.Handler.NonGoRestfulMux.UnlistedHandle(customResourceDefinitionsPath, noCustomResources{})
}

// noCustomResources answers GET customResourceDefinitionsPath with an empty
// CustomResourceDefinitionList.
type noCustomResources struct{}

func (noCustomResources) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var verb string
	switch {
	case req.Method == http.MethodGet && req.URL.Query().Get("watch") == "true":
		verb = "watch"
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
		responsewriters.WriteRawJSON(http.StatusOK, emptyCustomResourceDefinitionList{
			TypeMeta: metav1.TypeMeta{Kind: "CustomResourceDefinitionList", APIVersion: "apiextensions.k8s.io/v1"},
			Items:    []struct{}{},
		}, w)
		return
	case req.Method == http.MethodPost:
		verb = "create"
	case req.Method == http.MethodDelete:
		verb = "deletecollection"
	default:
		verb = req.Method
	}
	status := apierrors.NewMethodNotSupported(customResourceDefinitions, verb).ErrStatus
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	status.Message += ": this federation serves no custom resources"
	responsewriters.WriteRawJSON(int(status.Code), status, w)
}

// emptyCustomResourceDefinitionList is apiextensions.k8s.io/v1's
// CustomResourceDefinitionList with no items, whose type this module does
// not import.
type emptyCustomResourceDefinitionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []struct{} `json:"items"`
}
