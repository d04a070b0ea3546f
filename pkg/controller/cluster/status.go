package cluster

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// writeStatus writes the verdict and zones into the Cluster's status when
// needsWrite says so, and records an event when the Ready condition's
// status or reason changed.
func (c *Controller) writeStatus(ctx context.Context, name string, st *clusterState, v *verdict, zones zoneInfo, now time.Time) {
	logger := clusterLogger(ctx, name)
	cached, err := c.clusterLister.Get(name)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			logger.Error(err, "Cannot read the Cluster to write its status")
		}
		return
	}
	base := c.written.Newest(name, cached)

	var written *federationv1beta1.Cluster
	var before federationv1beta1.ClusterStatus
	reread := false
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if reread {
			fresh, err := c.fedClient.FederationV1beta1().Clusters().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			base = fresh
		}
		reread = true
		status := desiredStatus(base.Status, v, zones, now)
		if !needsWrite(base.Status, status, now) {
			written = nil
			return nil
		}
		update := base.DeepCopy()
		update.Status = status
		out, err := c.fedClient.FederationV1beta1().Clusters().UpdateStatus(ctx, update, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		written, before = out, base.Status
		return nil
	})

	c.mu.Lock()
	if c.states[name] == st {
		switch {
		case err != nil:
			c.written.Forget(name) // start again from the cache, or the API on conflict
		case written != nil:
			c.written.Wrote(name, written)
		}
	}
	c.mu.Unlock()
	switch {
	case apierrors.IsNotFound(err):
		return // deleted while probing
	case err != nil:
		logger.Error(err, "Cannot write the Cluster's status")
		return
	case written == nil:
		return
	}
	logger.V(4).Info("Wrote the Cluster's status", "ready", v.ready.status, "reason", v.ready.reason)

	old := findCondition(before.Conditions, federationv1beta1.ClusterReady)
	if old == nil || old.Status != v.ready.status || old.Reason != v.ready.reason {
		eventType := corev1.EventTypeWarning
		if v.isReady() {
			eventType = corev1.EventTypeNormal
		}
		c.recorder.Event(written, eventType, v.ready.reason, v.ready.message)
		logger.Info("Cluster readiness changed", "ready", v.ready.status, "reason", v.ready.reason, "message", v.ready.message)
	}
}

// desiredStatus is old with the verdict's conditions and, when known, the
// zones applied. Conditions of other types, which this controller does not
// own, are kept.
func desiredStatus(old federationv1beta1.ClusterStatus, v *verdict, zones zoneInfo, now time.Time) federationv1beta1.ClusterStatus {
	s := federationv1beta1.ClusterStatus{Zones: old.Zones, Region: old.Region}
	if zones.known {
		s.Zones, s.Region = zones.zones, zones.region
	}
	t := metav1.NewTime(now)
	s.Conditions = []federationv1beta1.ClusterCondition{
		newCondition(old.Conditions, federationv1beta1.ClusterReady, v.ready, t),
		newCondition(old.Conditions, federationv1beta1.ClusterOffline, v.offline, t),
	}
	for _, cond := range old.Conditions {
		if cond.Type != federationv1beta1.ClusterReady && cond.Type != federationv1beta1.ClusterOffline {
			s.Conditions = append(s.Conditions, cond)
		}
	}
	return s
}

// newCondition stamps now as the probe time, and as the transition time
// only when the status changed, so that lastTransitionTime says how long
// the cluster has been in its state.
func newCondition(old []federationv1beta1.ClusterCondition, t federationv1beta1.ClusterConditionType, c condition, now metav1.Time) federationv1beta1.ClusterCondition {
	cond := federationv1beta1.ClusterCondition{
		Type:               t,
		Status:             c.status,
		Reason:             c.reason,
		Message:            c.message,
		LastProbeTime:      now,
		LastTransitionTime: now,
	}
	if prev := findCondition(old, t); prev != nil && prev.Status == c.status && !prev.LastTransitionTime.IsZero() {
		cond.LastTransitionTime = prev.LastTransitionTime
	}
	return cond
}

// needsWrite says whether the desired status differs from the stored one in
// anything but times, or the stored probe time is too old to show the
// controller is alive.
func needsWrite(old, desired federationv1beta1.ClusterStatus, now time.Time) bool {
	if len(old.Conditions) != len(desired.Conditions) {
		return true
	}
	for _, d := range desired.Conditions {
		o := findCondition(old.Conditions, d.Type)
		if o == nil || o.Status != d.Status || o.Reason != d.Reason || o.Message != d.Message {
			return true
		}
	}
	if !slices.Equal(old.Zones, desired.Zones) || old.Region != desired.Region {
		return true
	}
	ready := findCondition(old.Conditions, federationv1beta1.ClusterReady)
	return ready == nil || now.Sub(ready.LastProbeTime.Time) >= StatusRefreshPeriod
}

func findCondition(conds []federationv1beta1.ClusterCondition, t federationv1beta1.ClusterConditionType) *federationv1beta1.ClusterCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}
