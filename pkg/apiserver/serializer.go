package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// withoutProtobuf hides the protobuf media type. The federation's own kinds
// have no protobuf encoding, so a client that prefers protobuf (the
// metadata client of kube's namespace controller does) must be answered in
// JSON rather than with an encoding error.
type withoutProtobuf struct {
	runtime.NegotiatedSerializer
}

func (s withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range s.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}
