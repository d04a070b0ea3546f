package ingresslb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// syncUIDs makes every Ready member's ingress UID the federation's: find
// the federation's UID, then bring each member's ConfigMap in line and
// record it on its Cluster.
func (c *Controller) syncUIDs(ctx context.Context) error {
	ready := c.readyMembers()
	uid, err := c.federationUID(ctx, ready)
	if err != nil || uid == "" {
		return err
	}
	var errs []error
	lifted := false
	for _, m := range ready {
		done, err := c.syncMemberUID(ctx, m, uid)
		errs = append(errs, err)
		lifted = lifted || done
	}
	if lifted {
		c.wakeSync()
	}
	if next := c.nextSettle(); !next.IsZero() {
		c.queue.AddAfter(uidsKey, time.Until(next))
	}
	return errors.Join(errs...)
}

// readyMembers are the Ready members, sorted by name.
func (c *Controller) readyMembers() []string {
	ready := c.members.Ready()
	sort.Strings(ready)
	return ready
}

// federationUID is the UID every member's GLBC shares: the one recorded on
// the Cluster objects; else the first Ready member's own (by name), so
// that its existing load balancers keep their names; else a new one.
func (c *Controller) federationUID(ctx context.Context, ready []string) (string, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid != "" {
		return uid, nil
	}
	if uid = c.recordedUID(); uid == "" {
		for _, name := range ready {
			client := c.members.Client(name)
			if client == nil {
				continue
			}
			cm, err := getUIDConfigMap(ctx, client)
			if err != nil {
				return "", fmt.Errorf("cluster %s: read ConfigMap %s/%s: %w", name, UIDNamespace, UIDConfigMap, err)
			}
			if cm != nil && cm.Data[UIDKey] != "" {
				uid = cm.Data[UIDKey]
				c.logger.Info("Adopting the ingress UID of the first member that has one", "cluster", name, "uid", uid)
				break
			}
		}
	}
	if uid == "" && len(ready) > 0 {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		uid = hex.EncodeToString(b)
		c.logger.Info("No member has an ingress UID yet; the federation made one", "uid", uid)
	}
	c.mu.Lock()
	c.uid = uid
	c.mu.Unlock()
	return uid, nil
}

// recordedUID is the UID on the Cluster objects, "" if none has one. If
// they disagree (someone edited one), the most common wins.
func (c *Controller) recordedUID() string {
	clusters, err := c.clusters.List(everything())
	if err != nil {
		return ""
	}
	count := map[string]int{}
	best := ""
	for _, cl := range clusters {
		uid := cl.Annotations[ClusterUIDAnnotation]
		if uid == "" {
			continue
		}
		count[uid]++
		if count[uid] > count[best] || (count[uid] == count[best] && uid < best) {
			best = uid
		}
	}
	return best
}

// syncMemberUID brings one member's ConfigMap in line with uid, unless the
// member's own different UID is in use, and then records uid on its
// Cluster. It says whether a hold on the member lifted.
func (c *Controller) syncMemberUID(ctx context.Context, cluster, uid string) (bool, error) {
	client := c.members.Client(cluster)
	if client == nil {
		// It left since Ready was read; its leaving queues the UIDs again.
		return false, nil
	}
	logger := c.logger.WithValues("cluster", cluster)
	want := map[string]string{UIDKey: uid, ProviderUIDKey: ProviderUID(c.cctx.FederationName, cluster)}
	cm, err := getUIDConfigMap(ctx, client)
	if err != nil {
		return false, fmt.Errorf("cluster %s: read ConfigMap %s/%s: %w", cluster, UIDNamespace, UIDConfigMap, err)
	}
	if cm != nil && cm.Data[UIDKey] != "" && cm.Data[UIDKey] != uid {
		if inUse, err := c.ownGCEIngresses(ctx, cluster, client); err != nil {
			return false, err
		} else if len(inUse) > 0 {
			return false, c.reportConflict(cluster, cm.Data[UIDKey], uid, inUse)
		}
	}
	c.clearConflict(cluster)
	changedUID := cm != nil && cm.Data[UIDKey] != "" && cm.Data[UIDKey] != uid
	if err := writeUIDConfigMap(ctx, client, cm, want); err != nil {
		return false, fmt.Errorf("cluster %s: write ConfigMap %s/%s: %w", cluster, UIDNamespace, UIDConfigMap, err)
	}
	if changedUID {
		logger.Info("Changed the member's ingress UID to the federation's", "from", cm.Data[UIDKey], "to", uid)
		c.mu.Lock()
		c.settling[cluster] = time.Now().Add(c.opts.UIDSettle)
		c.mu.Unlock()
	}
	lifted := c.settled(cluster)
	recorded, err := c.recordUID(ctx, cluster, uid)
	return lifted || recorded, err
}

// ownGCEIngresses lists the member's GCE Ingresses that are not the
// federation's: their load balancers carry the member's UID.
func (c *Controller) ownGCEIngresses(ctx context.Context, cluster string, client kubernetes.Interface) ([]string, error) {
	list, err := client.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: list Ingresses: %w", cluster, err)
	}
	var out []string
	for i := range list.Items {
		ing := &list.Items[i]
		if ing.Labels[clusterclient.ManagedByLabel] == c.cctx.FederationName || !c.class.isGCE(ing) {
			continue
		}
		out = append(out, ing.Namespace+"/"+ing.Name)
	}
	return out, nil
}

func (c *Controller) reportConflict(cluster, theirs, ours string, inUse []string) error {
	msg := fmt.Sprintf("cluster %s's GCE ingress UID %s is in use by its own Ingresses (%s), so the federation does not change it to %s: "+
		"changing it would leak their load balancers. Delete those Ingresses, or move them into the federation, then the federation sets the UID.",
		cluster, theirs, joinFirst(inUse, 3), ours)
	c.mu.Lock()
	changed := c.conflicts[cluster] != msg
	c.conflicts[cluster] = msg
	c.mu.Unlock()
	if changed {
		c.logger.Info("Ingress UID conflict", "cluster", cluster, "memberUID", theirs, "federationUID", ours, "ingresses", inUse)
		if cl, err := c.clusters.Get(cluster); err == nil {
			c.recorder.Event(cl, corev1.EventTypeWarning, ReasonUIDConflict, msg)
		}
		c.wakeSync()
	}
	return nil
}

func (c *Controller) clearConflict(cluster string) {
	c.mu.Lock()
	_, had := c.conflicts[cluster]
	delete(c.conflicts, cluster)
	c.mu.Unlock()
	if had {
		c.wakeSync()
	}
}

// settled drops cluster's settling time once it passed, and says so.
func (c *Controller) settled(cluster string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.settling[cluster]
	if ok && !time.Now().Before(until) {
		delete(c.settling, cluster)
		return true
	}
	return false
}

// nextSettle is the earliest settling time still ahead.
func (c *Controller) nextSettle() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for _, t := range c.settling {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// recordUID writes uid on the Cluster object, and says whether it did.
func (c *Controller) recordUID(ctx context.Context, cluster, uid string) (bool, error) {
	cl, err := c.clusters.Get(cluster)
	if err != nil || cl.Annotations[ClusterUIDAnnotation] == uid {
		return false, nil
	}
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, ClusterUIDAnnotation, uid)
	_, err = c.cctx.FedClient.FederationV1beta1().Clusters().Patch(ctx, cluster, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return false, fmt.Errorf("record the ingress UID on Cluster %s: %w", cluster, err)
	}
	c.recorder.Eventf(cl, corev1.EventTypeNormal, ReasonUIDSet, "Ingress UID %s (ConfigMap %s/%s) set for one global load balancer", uid, UIDNamespace, UIDConfigMap)
	return true, nil
}

func getUIDConfigMap(ctx context.Context, client kubernetes.Interface) (*corev1.ConfigMap, error) {
	cm, err := client.CoreV1().ConfigMaps(UIDNamespace).Get(ctx, UIDConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return cm, err
}

// writeUIDConfigMap makes the ConfigMap (cur, nil if absent) hold want,
// keeping its other keys.
func writeUIDConfigMap(ctx context.Context, client kubernetes.Interface, cur *corev1.ConfigMap, want map[string]string) error {
	if cur == nil {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: UIDNamespace, Name: UIDConfigMap}, Data: want}
		_, err := client.CoreV1().ConfigMaps(UIDNamespace).Create(ctx, cm, metav1.CreateOptions{})
		return err
	}
	same := true
	for k, v := range want {
		same = same && cur.Data[k] == v
	}
	if same {
		return nil
	}
	cp := cur.DeepCopy()
	if cp.Data == nil {
		cp.Data = map[string]string{}
	}
	for k, v := range want {
		cp.Data[k] = v
	}
	_, err := client.CoreV1().ConfigMaps(UIDNamespace).Update(ctx, cp, metav1.UpdateOptions{})
	return err
}

func joinFirst(items []string, n int) string {
	if len(items) <= n {
		return fmt.Sprint(items)
	}
	return fmt.Sprintf("%v and %d more", items[:n], len(items)-n)
}
