package fakecompute_test

import (
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/kfederation/federation/test/fakecompute"
)

const (
	project = "test-project"
	zoneA   = "us-central1-a"
	zoneB   = "us-central1-b"
)

// start serves a fake and returns a real compute/v1 client of it, and done
// for the test's changes.
func start(t *testing.T) (*fakecompute.Server, *compute.Service, func(*compute.Operation, error) *compute.Operation) {
	t.Helper()
	s := fakecompute.New()
	s.Start()
	t.Cleanup(s.Close)
	svc, err := compute.NewService(t.Context(), option.WithEndpoint(s.Endpoint()), option.WithoutAuthentication(), option.WithHTTPClient(http.DefaultClient))
	if err != nil {
		t.Fatalf("create the compute/v1 client: %v", err)
	}
	return s, svc, func(op *compute.Operation, err error) *compute.Operation { return waitDone(t, svc, op, err) }
}

// waitDone fails the test unless a change was accepted, polls its
// operation until it is DONE, as a client does, and fails unless it
// succeeded.
func waitDone(t *testing.T, svc *compute.Service, op *compute.Operation, err error) *compute.Operation {
	t.Helper()
	if err != nil {
		t.Fatalf("change refused: %v", err)
	}
	for i := 0; op.Status != "DONE"; i++ {
		if i > 10 {
			t.Fatalf("operation %s still %s after %d polls", op.Name, op.Status, i)
		}
		op = poll(t, svc, op)
	}
	if op.Error != nil {
		t.Fatalf("operation %s %s on %s failed: %+v", op.Name, op.OperationType, op.TargetLink, op.Error.Errors[0])
	}
	return op
}

// poll gets an operation once, from the global or the zonal collection it
// is in.
func poll(t *testing.T, svc *compute.Service, op *compute.Operation) *compute.Operation {
	t.Helper()
	var err error
	if op.Zone != "" {
		op, err = svc.ZoneOperations.Get(project, path.Base(op.Zone), op.Name).Context(t.Context()).Do()
	} else {
		op, err = svc.GlobalOperations.Get(project, op.Name).Context(t.Context()).Do()
	}
	if err != nil {
		t.Fatalf("poll the operation: %v", err)
	}
	return op
}

// wantAPIError fails unless err is the API's error with code and reason,
// as the client decodes it from the fake's body.
func wantAPIError(t *testing.T, err error, code int, reason string) {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("got error %v, want a *googleapi.Error %d %s", err, code, reason)
	}
	if gerr.Code != code || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != reason || gerr.Message == "" {
		t.Fatalf("got error code %d, errors %+v, message %q; want code %d, reason %s and a message", gerr.Code, gerr.Errors, gerr.Message, code, reason)
	}
}

func TestCommonRules(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc", Type: "HTTP"}).Context(ctx).Do())

	for _, tc := range []struct {
		name    string
		call    func() error
		code    int
		reason  string
		message string // checked when set
	}{{
		name: "insert an existing name",
		call: func() error {
			_, err := svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc", Type: "TCP"}).Do()
			return err
		},
		code: 409, reason: "alreadyExists",
		message: "The resource 'projects/test-project/global/healthChecks/hc' already exists",
	}, {
		name: "get a missing resource",
		call: func() error { _, err := svc.UrlMaps.Get(project, "x").Do(); return err },
		code: 404, reason: "notFound",
		message: "The resource 'projects/test-project/global/urlMaps/x' was not found",
	}, {
		name: "delete a missing zonal resource",
		call: func() error { _, err := svc.Instances.Delete(project, zoneA, "x").Do(); return err },
		code: 404, reason: "notFound",
		message: "The resource 'projects/test-project/zones/us-central1-a/instances/x' was not found",
	}, {
		name: "name with a capital",
		call: func() error {
			_, err := svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "Hc", Type: "HTTP"}).Do()
			return err
		},
		code: 400, reason: "invalid",
	}, {
		name: "name starting with a digit",
		call: func() error {
			_, err := svc.GlobalAddresses.Insert(project, &compute.Address{Name: "1a"}).Do()
			return err
		},
		code: 400, reason: "invalid",
	}, {
		name: "name ending with a dash",
		call: func() error { _, err := svc.Firewalls.Insert(project, &compute.Firewall{Name: "fw-"}).Do(); return err },
		code: 400, reason: "invalid",
	}, {
		name: "name of 64 characters",
		call: func() error {
			_, err := svc.Instances.Insert(project, zoneA, &compute.Instance{Name: strings.Repeat("a", 64)}).Do()
			return err
		},
		code: 400, reason: "invalid",
	}, {
		name: "no name",
		call: func() error { _, err := svc.UrlMaps.Insert(project, &compute.UrlMap{}).Do(); return err },
		code: 400, reason: "invalid",
	}, {
		name: "reference that is no URL",
		call: func() error {
			_, err := svc.BackendServices.Insert(project, &compute.BackendService{Name: "bs", HealthChecks: []string{"hc"}}).Do()
			return err
		},
		code: 400, reason: "invalid",
	}, {
		name: "reference to another collection",
		call: func() error {
			_, err := svc.BackendServices.Insert(project, &compute.BackendService{Name: "bs", HealthChecks: []string{"global/urlMaps/hc"}}).Do()
			return err
		},
		code: 400, reason: "invalid",
	}, {
		name: "reference to a missing resource",
		call: func() error {
			_, err := svc.TargetHttpProxies.Insert(project, &compute.TargetHttpProxy{Name: "p", UrlMap: "global/urlMaps/um"}).Do()
			return err
		},
		code: 404, reason: "notFound",
		message: "The resource 'projects/test-project/global/urlMaps/um' was not found",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantAPIError(t, err, tc.code, tc.reason)
			var gerr *googleapi.Error
			if errors.As(err, &gerr) && tc.message != "" && gerr.Message != tc.message {
				t.Errorf("message = %q, want %q", gerr.Message, tc.message)
			}
		})
	}
	if got := s.Names(project, "backendServices"); len(got) != 0 {
		t.Errorf("refused inserts left backend services %v", got)
	}
}

func TestResourceFields(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	op := done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc", Type: "HTTP"}).Context(ctx).Do())
	hc, err := svc.HealthChecks.Get(project, "hc").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	link := s.Endpoint() + "projects/test-project/global/healthChecks/hc"
	// The id is above 2^53: it survives only as the JSON string it is.
	if hc.Id <= 1<<53 || hc.Kind != "compute#healthCheck" || hc.SelfLink != link || hc.CreationTimestamp == "" {
		t.Errorf("health check = id %d, kind %q, selfLink %q, creationTimestamp %q", hc.Id, hc.Kind, hc.SelfLink, hc.CreationTimestamp)
	}
	if op.Kind != "compute#operation" || op.OperationType != "insert" || op.TargetLink != link || op.TargetId != hc.Id ||
		op.SelfLink != s.Endpoint()+"projects/test-project/global/operations/"+op.Name || op.Zone != "" {
		t.Errorf("operation = %+v", op)
	}
	// The API's defaults are filled in.
	if hc.CheckIntervalSec != 5 || hc.TimeoutSec != 5 || hc.HttpHealthCheck == nil || hc.HttpHealthCheck.Port != 80 || hc.HttpHealthCheck.RequestPath != "/" {
		t.Errorf("health check defaults = %+v %+v", hc, hc.HttpHealthCheck)
	}

	// A field the fake does not read comes back as it was sent.
	in := &compute.Instance{
		Name:              "vm",
		MachineType:       "zones/us-central1-a/machineTypes/e2-small",
		NetworkInterfaces: []*compute.NetworkInterface{{Network: "global/networks/default", NetworkIP: "10.0.0.2"}},
		Labels:            map[string]string{"team": "edge"},
	}
	op = done(svc.Instances.Insert(project, zoneA, in).Context(ctx).Do())
	if op.Zone != s.Endpoint()+"projects/test-project/zones/us-central1-a" {
		t.Errorf("zonal operation's zone = %q", op.Zone)
	}
	vm, err := svc.Instances.Get(project, zoneA, "vm").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if vm.MachineType != in.MachineType || len(vm.NetworkInterfaces) != 1 || vm.NetworkInterfaces[0].NetworkIP != "10.0.0.2" ||
		vm.Labels["team"] != "edge" || vm.Status != "RUNNING" || vm.Zone != op.Zone {
		t.Errorf("instance = %+v", vm)
	}
}

func TestFailNext(t *testing.T) {
	for _, tc := range []struct {
		code   int
		reason string
	}{{503, "backendError"}, {429, "rateLimitExceeded"}} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			s, svc, done := start(t)
			s.FailNext(2, tc.code)
			for range 2 {
				_, err := svc.GlobalAddresses.Insert(project, &compute.Address{Name: "a"}).Context(t.Context()).Do()
				wantAPIError(t, err, tc.code, tc.reason)
			}
			if got := s.Names(project, "globalAddresses"); len(got) != 0 {
				t.Errorf("failed requests left addresses %v", got)
			}
			done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "a"}).Context(t.Context()).Do())
			if got := s.Requests()["globalAddresses.insert"]; got != 3 {
				t.Errorf("globalAddresses.insert counted %d times, want 3, failed ones included", got)
			}
		})
	}
}

func TestSlowNext(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	s.SlowNext(1, 2)
	op, err := svc.Instances.Insert(project, zoneA, &compute.Instance{Name: "vm"}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if op.Status != "RUNNING" {
			t.Fatalf("after %d polls the operation is %s, want RUNNING", i, op.Status)
		}
		if _, err := svc.Instances.Get(project, zoneA, "vm").Context(ctx).Do(); err == nil {
			t.Fatalf("after %d polls the instance exists before its operation is done", i)
		}
		if i == 1 {
			// Wait polls too.
			op, err = svc.ZoneOperations.Wait(project, zoneA, op.Name).Context(ctx).Do()
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		op = poll(t, svc, op)
	}
	if op.Status != "DONE" || op.Error != nil || op.Progress != 100 {
		t.Fatalf("after 3 polls the operation is %+v, want DONE without error", op)
	}
	if _, err := svc.Instances.Get(project, zoneA, "vm").Context(ctx).Do(); err != nil {
		t.Errorf("the instance of a done operation: %v", err)
	}
	if diff := cmp.Diff(map[string]int{"instances.insert": 1, "instances.get": 4, "zoneOperations.get": 2, "zoneOperations.wait": 1}, s.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// A change that no longer applies when its operation completes fails
	// in the operation, as on the API.
	s.SlowNext(1, 1)
	slow, err := svc.GlobalAddresses.Insert(project, &compute.Address{Name: "a"}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "a"}).Context(ctx).Do())
	slow = poll(t, svc, slow)
	if slow, err = svc.GlobalOperations.Wait(project, slow.Name).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if slow.Status != "DONE" || slow.Error == nil || slow.Error.Errors[0].Code != "ALREADY_EXISTS" || slow.HttpErrorStatusCode != 409 {
		t.Errorf("slow insert of a name taken meanwhile = %+v, want DONE with ALREADY_EXISTS", slow)
	}
	_, err = svc.GlobalOperations.Get(project, "operation-missing").Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestPaging(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	names := []string{"fw-0", "fw-1", "fw-2", "fw-3", "fw-4"}
	for _, n := range names {
		fw := &compute.Firewall{Name: n, Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp"}}, TargetTags: []string{"tag-" + n}}
		done(svc.Firewalls.Insert(project, fw).Context(ctx).Do())
	}
	for _, tc := range []struct {
		name      string
		filter    string
		wantNames []string
		wantPages int
	}{
		{name: "all", wantNames: names, wantPages: 3},
		{name: "regexp", filter: "name eq fw-[0-2]", wantNames: names[:3], wantPages: 2},
		{name: "regexp matches whole names", filter: "name eq fw", wantPages: 1},
		{name: "negated regexp", filter: "name ne fw-[0-2]", wantNames: names[3:], wantPages: 1},
		{name: "comparison", filter: `name = "fw-3"`, wantNames: names[3:4], wantPages: 1},
		{name: "comparisons", filter: `(name != "fw-3") (priority = 1000) AND (targetTags = "tag-fw-4")`, wantNames: names[4:], wantPages: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			pages := 0
			err := svc.Firewalls.List(project).Filter(tc.filter).MaxResults(2).Pages(ctx, func(l *compute.FirewallList) error {
				pages++
				for _, fw := range l.Items {
					got = append(got, fw.Name)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantNames, got); diff != "" || pages != tc.wantPages {
				t.Errorf("%d pages, want %d; names (-want +got):\n%s", pages, tc.wantPages, diff)
			}
		})
	}

	_, err := svc.Firewalls.List(project).Filter("name ~ fw").Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.Firewalls.List(project).PageToken("!!").Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")

	// SetPageSize pages a client that sets no maxResults.
	s.SetPageSize(4)
	l, err := svc.Firewalls.List(project).Context(ctx).Do()
	if err != nil || len(l.Items) != 4 || l.NextPageToken == "" || l.Kind != "compute#firewallList" {
		t.Errorf("list with page size 4 = %d items, next %q, kind %q, %v", len(l.Items), l.NextPageToken, l.Kind, err)
	}
}

func TestUnknownMethods(t *testing.T) {
	s, svc, _ := start(t)
	ctx := t.Context()
	_, err := svc.TargetHttpsProxies.List(project).Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
	// A verb the fake does not serve on a path it does serve.
	_, err = svc.GlobalAddresses.SetLabels(project, "a", &compute.GlobalSetLabelsRequest{}).Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.Endpoint()+"projects/p/global/addresses", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT on a collection = %d, want 404", resp.StatusCode)
	}
	if got := s.Requests(); got[fakecompute.MethodUnknown] != 3 {
		t.Errorf("requests = %v, want 3 unknown", got)
	}
	s.ResetRequests()
	if got := s.Requests(); len(got) != 0 {
		t.Errorf("requests after reset = %v", got)
	}
	if got := s.Names(project, "networks"); got != nil {
		t.Errorf("names of a collection the fake does not serve = %v", got)
	}
}

// names returns the names of a list's items.
func names[T any](items []*T, name func(*T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	slices.Sort(out)
	return out
}
