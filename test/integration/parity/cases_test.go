package parity

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// endpoint is where the cases of one testdata directory are posted.
type endpoint struct {
	// prefix is /api/v1 or /apis/<group>/<version>.
	prefix     string
	resource   string
	namespaced bool
}

// endpoints maps each testdata directory to the endpoint its cases are sent
// to. The endpoint comes from the directory, not from the body, so that a
// body of the wrong kind or version can be sent to it.
var endpoints = map[string]endpoint{
	"namespaces":     {"/api/v1", "namespaces", false},
	"services":       {"/api/v1", "services", true},
	"secrets":        {"/api/v1", "secrets", true},
	"configmaps":     {"/api/v1", "configmaps", true},
	"events":         {"/api/v1", "events", true},
	"replicasets":    {"/apis/apps/v1", "replicasets", true},
	"deployments":    {"/apis/apps/v1", "deployments", true},
	"daemonsets":     {"/apis/apps/v1", "daemonsets", true},
	"ingresses":      {"/apis/networking.k8s.io/v1", "ingresses", true},
	"ingressclasses": {"/apis/networking.k8s.io/v1", "ingressclasses", false},
	"jobs":           {"/apis/batch/v1", "jobs", true},
	"leases":         {"/apis/coordination.k8s.io/v1", "leases", true},

	"serviceaccounts":     {"/api/v1", "serviceaccounts", true},
	"clusterroles":        {"/apis/rbac.authorization.k8s.io/v1", "clusterroles", false},
	"clusterrolebindings": {"/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", false},
	"roles":               {"/apis/rbac.authorization.k8s.io/v1", "roles", true},
	"rolebindings":        {"/apis/rbac.authorization.k8s.io/v1", "rolebindings", true},
}

// namespacePlaceholder in a body is replaced by the test namespace, for
// fields that must name it (an Event's involvedObject.namespace).
const namespacePlaceholder = "$NAMESPACE"

// parityCase is one file of testdata: a request body and how to send it.
//
// A file starts with directive lines, which are not sent:
//
//	# want: 422                 kube-apiserver's status code (required), so
//	                            that a case that does not test what its name
//	                            says is caught; for an old version, the code
//	                            of the reference (see oldEndpoint)
//	# why: ...                  what the case is about
//	# content-type: ...         default: application/yaml for .yaml files,
//	                            application/json for .json files
//	# query: fieldValidation=Strict
//	# namespace: name           the namespace in the URL (default: the
//	                            test's namespace)
//	# repeat: true              post twice and compare the second answers
type parityCase struct {
	// ID is directory/file, e.g. services/invalid-type.yaml.
	ID string
	// Endpoint is where the federation is sent the case, Reference where
	// kube-apiserver is: the same, but for an old version (Old).
	Endpoint    endpoint
	Reference   endpoint
	Old         *oldEndpoint
	Body        []byte
	ContentType string
	Query       url.Values
	Namespace   string
	Repeat      bool
	Want        int
	Why         string
}

// path is the URL path of the collection the case is posted to, in the
// federation.
func (c parityCase) path(testNamespace string) string {
	return c.pathAt(c.Endpoint, testNamespace)
}

// referencePath is the URL path of the collection the case is posted to,
// in kube-apiserver.
func (c parityCase) referencePath(testNamespace string) string {
	return c.pathAt(c.Reference, testNamespace)
}

func (c parityCase) pathAt(ep endpoint, testNamespace string) string {
	if !ep.namespaced {
		return ep.prefix + "/" + ep.resource
	}
	ns := c.Namespace
	if ns == "" {
		ns = testNamespace
	}
	return ep.prefix + "/namespaces/" + ns + "/" + ep.resource
}

// body is the request body with the test namespace filled in.
func (c parityCase) body(testNamespace string) []byte {
	return bytes.ReplaceAll(c.Body, []byte(namespacePlaceholder), []byte(testNamespace))
}

// name is metadata.name of the body, or "" when the body has none or cannot
// be parsed at all (a broken body names nothing that could be stored).
func (c parityCase) name() string {
	var obj struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(c.Body, &obj); err != nil {
		return ""
	}
	return obj.Metadata.Name
}

// loadCases reads every case under dir, sorted by ID.
func loadCases(dir string) ([]parityCase, error) {
	var cases []parityCase
	load := func(sub string, ep endpoint, old *oldEndpoint) error {
		files, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return fmt.Errorf("testdata for %s: %w", sub, err)
		}
		for _, f := range files {
			if f.IsDir() {
				continue
			}
			c, err := loadCase(filepath.Join(dir, sub, f.Name()), sub+"/"+f.Name(), ep)
			if err != nil {
				return err
			}
			if old != nil {
				c.Reference, c.Old = old.reference(), old
			}
			cases = append(cases, c)
		}
		return nil
	}
	for sub, ep := range endpoints {
		if err := load(sub, ep, nil); err != nil {
			return nil, err
		}
	}
	for sub, old := range oldEndpoints {
		if err := load(sub, old.federation(), &old); err != nil {
			return nil, err
		}
	}
	// Every directory of testdata must be an endpoint: a new kind's cases
	// must not be skipped because nobody added it to the map.
	dirs, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		_, ok := endpoints[d.Name()]
		_, old := oldEndpoints[d.Name()]
		if !ok && !old {
			return nil, fmt.Errorf("testdata/%s is not a known endpoint; add it to endpoints or oldEndpoints", d.Name())
		}
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].ID < cases[j].ID })
	return cases, nil
}

func loadCase(path, id string, ep endpoint) (parityCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return parityCase{}, err
	}
	c := parityCase{ID: id, Endpoint: ep, Reference: ep, Query: url.Values{}}
	switch filepath.Ext(path) {
	case ".yaml":
		c.ContentType = "application/yaml"
	case ".json":
		c.ContentType = "application/json"
	default:
		return c, fmt.Errorf("%s: cases are .yaml or .json files", id)
	}

	// Directives are the leading lines that start with '#'; the body is
	// everything after them, byte for byte.
	r := bufio.NewReader(bytes.NewReader(data))
	offset := 0
	for {
		line, readErr := r.ReadString('\n')
		if !strings.HasPrefix(line, "#") {
			break
		}
		offset += len(line)
		if err := c.setDirective(line); err != nil {
			return c, fmt.Errorf("%s: %w", id, err)
		}
		if readErr != nil {
			break
		}
	}
	c.Body = data[offset:]
	if c.Want == 0 {
		return c, fmt.Errorf("%s: no '# want: <status>' directive", id)
	}
	if c.Why == "" {
		return c, fmt.Errorf("%s: no '# why: ...' directive", id)
	}
	return c, nil
}

// setDirective applies one "# key: value" line.
func (c *parityCase) setDirective(line string) error {
	key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
	if !ok {
		return fmt.Errorf("directive %q is not key: value", strings.TrimSpace(line))
	}
	value = strings.TrimSpace(value)
	switch strings.TrimSpace(key) {
	case "want":
		want, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("want: %w", err)
		}
		c.Want = want
	case "why":
		c.Why = value
	case "content-type":
		c.ContentType = value
	case "query":
		q, err := url.ParseQuery(value)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		c.Query = q
	case "namespace":
		c.Namespace = value
	case "repeat":
		c.Repeat = value == "true"
	default:
		return fmt.Errorf("unknown directive %q", key)
	}
	return nil
}
