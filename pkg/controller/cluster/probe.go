package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/metadata"
	"k8s.io/klog/v2"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// verdict is what a probe, or the lack of a usable client, says about a
// member: its Ready and Offline conditions without their times.
type verdict struct {
	ready, offline condition
	// busy marks a probe that may only mean the member is overloaded: its
	// /readyz did not answer within the probe timeout, or answered with a
	// server error (a check, most often etcd's, missed its deadline).
	busy bool
}

type condition struct {
	status  federationv1beta1.ConditionStatus
	reason  string
	message string
}

func (v *verdict) isReady() bool {
	return v.ready.status == federationv1beta1.ConditionTrue
}

var reachable = condition{status: federationv1beta1.ConditionFalse, reason: ReasonClusterReachable}

// reached is the verdict on a member whose API server answered, but not
// with "ok".
func reached(reason, message string) *verdict {
	return &verdict{
		ready:   condition{status: federationv1beta1.ConditionFalse, reason: reason, message: message},
		offline: reachable,
	}
}

func unreachable(message string) *verdict {
	return &verdict{
		ready:   condition{status: federationv1beta1.ConditionFalse, reason: ReasonClusterNotReachable, message: message},
		offline: condition{status: federationv1beta1.ConditionTrue, reason: ReasonClusterNotReachable, message: message},
	}
}

// unprobed is the verdict on a member that cannot be probed for want of
// credentials or an address: whether it is reachable is unknown.
func unprobed(reason, message string) *verdict {
	return &verdict{
		ready: condition{status: federationv1beta1.ConditionFalse, reason: reason, message: message},
		offline: condition{status: federationv1beta1.ConditionUnknown, reason: reason,
			message: "Not probed: the cluster has no usable credentials or server address; see the Ready condition."},
	}
}

// zoneInfo is a member's zones and region as last listed; unknown until the
// first successful list, when the stored status is kept as it is.
type zoneInfo struct {
	known  bool
	zones  []string
	region string
}

// probeAll starts a probe of every Cluster whose previous probe is done.
func (c *Controller) probeAll(ctx context.Context) {
	clusters, err := c.clusterLister.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Cannot list Clusters to probe")
		return
	}
	for _, cl := range clusters {
		c.startProbe(ctx, cl.Name, false)
	}
}

// startProbe probes the cluster in its own goroutine unless a probe of it
// is running already; then, with again, one more probe follows that one,
// for callers whose news (a new client, new zones) the running probe may
// have missed.
func (c *Controller) startProbe(ctx context.Context, name string, again bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.states[name]
	if st == nil {
		return // not synced yet, or deleted: the sync starts the first probe
	}
	if st.probing {
		st.probeAgain = st.probeAgain || again
		return
	}
	st.probing = true
	go c.runProbes(ctx, name, st)
}

func (c *Controller) runProbes(ctx context.Context, name string, st *clusterState) {
	defer utilruntime.HandleCrashWithContext(ctx)
	for {
		c.probeCluster(ctx, name, st)
		c.mu.Lock()
		again := st.probeAgain && ctx.Err() == nil
		st.probeAgain = false
		if !again {
			st.probing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// probeCluster probes one member, tells the registry whether it is Ready,
// and writes its status if that changed.
func (c *Controller) probeCluster(ctx context.Context, name string, st *clusterState) {
	logger := clusterLogger(ctx, name)
	c.mu.Lock()
	v, member, secretName := st.unusable, st.member, st.secretName
	c.mu.Unlock()
	if v == nil {
		if member == nil {
			return
		}
		v = c.probeReadyz(ctx, member, secretName)
		if ctx.Err() != nil {
			return // shutting down: a cancelled probe says nothing about the member
		}
		if c.clusters.Get(name) != member {
			return // rebuilt meanwhile: this is news about the old client, and the sync probes the new one
		}
		if c.tolerate(logger, st, member, v) {
			return
		}
		c.clusters.SetReady(name, v.isReady())
	}
	logger.V(4).Info("Probed", "ready", v.ready.status, "reason", v.ready.reason)

	now := c.clock.Now()
	c.mu.Lock()
	if c.states[name] != st {
		c.mu.Unlock()
		return // deleted meanwhile
	}
	becameReady := v.isReady() && !st.wasReady
	st.wasReady = v.isReady()
	listNodes := v.isReady() && member != nil && !st.listingNodes &&
		(becameReady || now.Sub(st.zonesAt) >= ZonesRefreshPeriod)
	if listNodes {
		st.listingNodes = true
	}
	zones := zoneInfo{known: st.zonesKnown, zones: st.zones, region: st.region}
	c.mu.Unlock()
	if listNodes {
		go c.refreshZones(ctx, name, st, member)
	}
	c.writeStatus(ctx, name, st, v, zones, now)
}

// tolerate counts the probes in a row that failed, and says whether this
// failure is to be passed over: the member was Ready and either fewer than
// FailureThreshold probes in a row have failed, or the failure only says
// the member is busy (v.busy) while it still stores the federation's
// writes (clusterclient.Cluster.StoredSince, over the last period and
// probe timeout). A member's /readyz under load can miss the probe
// timeout, or fail its etcd check while its etcd is slow; taking that for
// an outage would mark the member's objects Pending, move its replicas
// away and back, and resync every object in every member, twice, which
// loads the members further. The write allowance slows the writes to such
// a member instead.
func (c *Controller) tolerate(logger klog.Logger, st *clusterState, member *clusterclient.Cluster, v *verdict) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.isReady() {
		st.failures = 0
		return false
	}
	if st.wasReady && v.busy && member.StoredSince(time.Now().Add(-c.opts.MonitorPeriod-c.opts.ProbeTimeout)) {
		st.failures = 0
		probesPassedOver.WithLabelValues(member.Name).Inc()
		logger.V(2).Info("Probe failed, but the member stores the federation's writes: counted busy, not down",
			"reason", v.ready.reason, "message", v.ready.message)
		return true
	}
	st.failures++
	if !st.wasReady || st.failures >= c.opts.FailureThreshold {
		return false
	}
	logger.Info("Probe failed; the cluster stays Ready until more probes in a row fail",
		"failures", st.failures, "threshold", c.opts.FailureThreshold, "reason", v.ready.reason, "message", v.ready.message)
	return true
}

// probeReadyz asks the member's API server whether it is ready.
// Retries are off: the next probe is the retry, and a retried probe could
// outlast the monitor period.
func (c *Controller) probeReadyz(ctx context.Context, member *clusterclient.Cluster, secretName string) *verdict {
	pctx, cancel := context.WithTimeout(ctx, c.opts.ProbeTimeout)
	defer cancel()
	var code int
	body, err := member.Kube.Discovery().RESTClient().Get().AbsPath("/readyz").MaxRetries(0).
		Do(pctx).StatusCode(&code).Raw()
	timedOut := errors.Is(pctx.Err(), context.DeadlineExceeded)
	return classify(code, body, err, timedOut, member.Config.Host, secretName, c.opts.ProbeTimeout)
}

// classify turns a /readyz answer (code 0: none) into a verdict. Messages
// stay the same from one probe to the next while nothing changes, since a
// changed message means a status write.
func classify(code int, body []byte, err error, timedOut bool, server, secretName string, timeout time.Duration) *verdict {
	switch {
	case code == http.StatusOK && strings.TrimSpace(string(body)) == "ok":
		return &verdict{
			ready:   condition{status: federationv1beta1.ConditionTrue, reason: ReasonClusterReady, message: "/readyz answered ok."},
			offline: reachable,
		}
	case code == http.StatusUnauthorized:
		return reached(ReasonClusterCredentialsRejected, fmt.Sprintf(
			"The member's API server rejected the credentials in Secret %s (HTTP 401): update its %q or %q key.",
			secretRef(secretName), clusterclient.SecretTokenKey, clusterclient.SecretKubeconfigKey))
	case code == http.StatusForbidden:
		return reached(ReasonClusterCredentialsRejected, fmt.Sprintf(
			"The member's API server forbids the credentials in Secret %s to GET /readyz (HTTP 403): grant them access in the member, or update the Secret.",
			secretRef(secretName)))
	case code != 0:
		v := reached(ReasonClusterNotReady, notReadyMessage(code, body))
		v.busy = code >= 500
		return v
	case timedOut:
		v := unreachable(fmt.Sprintf("%s did not answer /readyz within %v.", server, timeout))
		v.busy = true
		return v
	case isCertificateError(err):
		return reached(ReasonClusterCredentialsInvalid, fmt.Sprintf(
			"%s answered with a serving certificate the CA in Secret %s (%q, or the kubeconfig's certificate-authority-data) does not trust, or the Cluster's address names another server: %s.",
			server, secretRef(secretName), clusterclient.SecretCAKey, innermost(err)))
	default:
		return unreachable(fmt.Sprintf("Cannot reach %s: %s.", server, innermost(err)))
	}
}

func isCertificateError(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verifyErr) || errors.As(err, &unknownAuthority) ||
		errors.As(err, &hostname) || errors.As(err, &invalid)
}

// innermost drops the "Get <url>:" prefix the server is already named by.
func innermost(err error) string {
	if err == nil {
		return "no answer"
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// maxChecksNamed keeps a message readable when a member fails many checks.
const maxChecksNamed = 5

func notReadyMessage(code int, body []byte) string {
	checks := failingChecks(body)
	if len(checks) == 0 {
		return fmt.Sprintf("/readyz answered HTTP %d: %q.", code, firstLine(body, 120))
	}
	named := checks
	more := ""
	if len(checks) > maxChecksNamed {
		named = checks[:maxChecksNamed]
		more = fmt.Sprintf(" and %d more", len(checks)-maxChecksNamed)
	}
	return fmt.Sprintf("/readyz answered HTTP %d; failing checks: %s%s.", code, strings.Join(named, ", "), more)
}

// failingChecks picks the names out of the "[-]etcd failed: reason
// withheld" lines of a /readyz answer.
func failingChecks(body []byte) []string {
	var out []string
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "[-]"); ok {
			name, _, _ := strings.Cut(rest, " ")
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

func firstLine(body []byte, max int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if r := []rune(line); len(r) > max {
		line = string(r[:max]) + "..."
	}
	return line
}

// refreshZones lists the member's nodes, metadata only since labels are all
// it needs, and probes again so that new zones are written at once.
func (c *Controller) refreshZones(ctx context.Context, name string, st *clusterState, member *clusterclient.Cluster) {
	defer utilruntime.HandleCrashWithContext(ctx)
	logger := clusterLogger(ctx, name)
	c.mu.Lock()
	meta := st.meta
	c.mu.Unlock()
	var err error
	if meta == nil {
		meta, err = metadata.NewForConfig(member.Config)
	}
	var zones []string
	var region string
	if err == nil {
		lctx, cancel := context.WithTimeout(ctx, c.opts.ListTimeout)
		zones, region, err = listZones(lctx, meta)
		cancel()
	}

	c.mu.Lock()
	st.zonesAt = c.clock.Now()
	changed := false
	if err == nil && st.member == member {
		st.meta = meta
		changed = !st.zonesKnown || !slices.Equal(st.zones, zones) || st.region != region
		st.zones, st.region, st.zonesKnown = zones, region, true
	}
	c.mu.Unlock()
	if err != nil {
		// Often RBAC in the member: worth seeing, not worth an error every 30 s.
		logger.V(2).Info("Cannot list the member's nodes; keeping the last known zones and region", "err", err)
	}
	if changed {
		logger.V(2).Info("Listed the member's zones", "zones", zones, "region", region)
		c.startProbe(ctx, name, true)
	}
	// Cleared after startProbe, so that "neither probing nor listing" means
	// the cluster's status is settled.
	c.mu.Lock()
	st.listingNodes = false
	c.mu.Unlock()
}

// nodeListPageSize bounds the memory one page of a large member's nodes takes.
const nodeListPageSize = 500

func listZones(ctx context.Context, meta metadata.Interface) ([]string, string, error) {
	nodes := meta.Resource(corev1.SchemeGroupVersion.WithResource("nodes"))
	var nodeLabels []map[string]string
	opts := metav1.ListOptions{Limit: nodeListPageSize}
	for {
		list, err := nodes.List(ctx, opts)
		if err != nil {
			return nil, "", fmt.Errorf("list nodes: %w", err)
		}
		for i := range list.Items {
			nodeLabels = append(nodeLabels, list.Items[i].Labels)
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	zones, region := zonesAndRegion(nodeLabels)
	return zones, region, nil
}

// zonesAndRegion returns the sorted distinct zones of the nodes and their
// most common region, the alphabetically first among equally common ones.
// The GA topology labels win over the deprecated beta ones that older
// members still set.
func zonesAndRegion(nodeLabels []map[string]string) ([]string, string) {
	zones := sets.New[string]()
	regions := map[string]int{}
	for _, l := range nodeLabels {
		if z := firstLabel(l, corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone); z != "" {
			zones.Insert(z)
		}
		if r := firstLabel(l, corev1.LabelTopologyRegion, corev1.LabelFailureDomainBetaRegion); r != "" {
			regions[r]++
		}
	}
	region, count := "", 0
	for r, n := range regions {
		if n > count || (n == count && r < region) {
			region, count = r, n
		}
	}
	if zones.Len() == 0 {
		return nil, region
	}
	return sets.List(zones), region
}

func firstLabel(l map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := l[k]; v != "" {
			return v
		}
	}
	return ""
}
