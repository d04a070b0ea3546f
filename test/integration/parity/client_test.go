package parity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// server is one API server under comparison.
type server struct {
	name string
	rest rest.Interface
}

// newServer builds a raw REST client for cfg that asks for JSON answers (so
// that error Statuses can be read) and keeps warnings for comparison instead
// of logging them.
func newServer(name string, cfg *rest.Config) (server, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.AcceptContentTypes = "application/json"
	cfg.ContentType = "application/json"
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return server{}, fmt.Errorf("%s: %w", name, err)
	}
	return server{name: name, rest: cs.CoreV1().RESTClient()}, nil
}

// outcome is what a server answered to one request.
type outcome struct {
	Code   int
	Reason metav1.StatusReason
	// Fields are the distinct status.details.causes[].field of an error.
	Fields   []string
	Message  string
	Warnings []string
	// Object is the object a successful request returned.
	Object map[string]any
}

// String is the outcome as the test reports it.
func (o outcome) String() string {
	s := fmt.Sprintf("%d %s", o.Code, o.Reason)
	if len(o.Fields) > 0 {
		s += " fields=" + strings.Join(o.Fields, ",")
	}
	if o.Message != "" {
		s += fmt.Sprintf(" (%s)", o.Message)
	}
	return s
}

// sameAs says whether two outcomes agree in what the parity test compares:
// the status code, and for 422 the set of invalid fields.
func (o outcome) sameAs(other outcome) bool {
	if o.Code != other.Code {
		return false
	}
	return o.Code != 422 || slices.Equal(o.Fields, other.Fields)
}

// post sends body as it is, with the given content type, to path.
func (s server) post(ctx context.Context, path string, body []byte, contentType string, query url.Values) (outcome, error) {
	req := s.rest.Post().AbsPath(path).SetHeader("Content-Type", contentType).Body(body)
	for key, values := range query {
		for _, v := range values {
			req.Param(key, v)
		}
	}
	return s.do(ctx, req)
}

// get reads path.
func (s server) get(ctx context.Context, path string) (outcome, error) {
	return s.do(ctx, s.rest.Get().AbsPath(path))
}

func (s server) do(ctx context.Context, req *rest.Request) (outcome, error) {
	res := req.Do(ctx)
	var o outcome
	res.StatusCode(&o.Code)
	raw, err := res.Raw()
	if o.Code == 0 {
		return o, fmt.Errorf("%s: no answer: %w", s.name, err)
	}
	for _, w := range res.Warnings() {
		o.Warnings = append(o.Warnings, w.Text)
	}
	sort.Strings(o.Warnings)
	if o.Code >= 200 && o.Code < 300 {
		if err := json.Unmarshal(raw, &o.Object); err != nil {
			return o, fmt.Errorf("%s: answer %d is not a JSON object: %w", s.name, o.Code, err)
		}
		return o, nil
	}
	var status metav1.Status
	if err := json.Unmarshal(raw, &status); err != nil {
		return o, fmt.Errorf("%s: answer %d is not a Status: %w: %s", s.name, o.Code, err, raw)
	}
	o.Reason = status.Reason
	o.Message = status.Message
	if status.Details != nil {
		for _, c := range status.Details.Causes {
			if !slices.Contains(o.Fields, c.Field) {
				o.Fields = append(o.Fields, c.Field)
			}
		}
	}
	sort.Strings(o.Fields)
	return o, nil
}
