package apiserver

import (
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	"github.com/kfederation/federation/pkg/apis/federation"
)

// NewStorageFactory says how each resource is kept in etcd: the stock kinds
// in kube-apiserver's storage versions and media type, Clusters as JSON
// (the federation's own types have no protobuf encoding).
func NewStorageFactory(config storagebackend.Config, mediaType string, version basecompatibility.EffectiveVersion, resources *serverstorage.ResourceConfig) (*serverstorage.DefaultStorageFactory, error) {
	encoding := serverstorage.NewDefaultResourceEncodingConfigForEffectiveVersion(legacyscheme.Scheme, version)
	f := serverstorage.NewDefaultStorageFactory(config, mediaType, legacyscheme.Codecs, encoding, resources, nil)
	f.SetSerializer(federation.Resource("clusters"), "application/json", nil)
	f.SetSerializer(federation.Resource("propagations"), "application/json", nil)
	return f, nil
}
