package fakeglbc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// The ConfigMap that holds a cluster's ingress UID, and its keys. The
// federation's ingress controller writes the same "uid" into every member,
// and a "provider-uid" of its own into each.
const (
	uidNamespace   = "kube-system"
	uidConfigMap   = "ingress-uid"
	uidKey         = "uid"
	providerUIDKey = "provider-uid"
)

// uidBackoff bounds how long Start tries to read or create the ConfigMap.
var uidBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 8, Cap: 5 * time.Second}

// namerOf reads the names from the ConfigMap. ok is false when it has no
// UID, which the fake GLBC then ignores, keeping the names it has.
func namerOf(cm *corev1.ConfigMap) (n Namer, ok bool) {
	n = Namer{UID: cm.Data[uidKey], FirewallSuffix: cm.Data[providerUIDKey]}
	if n.FirewallSuffix == "" {
		n.FirewallSuffix = n.UID
	}
	return n, n.UID != ""
}

// ensureUID reads the member's ingress UID, creating the ConfigMap with a
// random one when it is missing, as GLBC does at start.
func ensureUID(ctx context.Context, client kubernetes.Interface) (Namer, error) {
	var n Namer
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, uidBackoff, func(ctx context.Context) (bool, error) {
		cms := client.CoreV1().ConfigMaps(uidNamespace)
		cm, err := cms.Get(ctx, uidConfigMap, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm, err = cms.Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: uidConfigMap, Namespace: uidNamespace},
				Data:       map[string]string{uidKey: randomUID()},
			}, metav1.CreateOptions{})
		}
		if err != nil {
			last = err
			return false, nil
		}
		var ok bool
		if n, ok = namerOf(cm); !ok {
			// Someone made it without a UID; GLBC fills it in.
			cm = cm.DeepCopy()
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[uidKey] = randomUID()
			_, last = cms.Update(ctx, cm, metav1.UpdateOptions{})
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return Namer{}, fmt.Errorf("read or create ConfigMap %s/%s: %w (last error: %v)", uidNamespace, uidConfigMap, err, last)
	}
	return n, nil
}

// randomUID is 8 random bytes in hex, GLBC's UID for a new cluster.
func randomUID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// uidChanged switches to the names of a changed ConfigMap and syncs every
// Ingress again. Resources already made under the old UID are left behind,
// as GLBC leaves them.
func (g *GLBC) uidChanged(obj interface{}) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Namespace != uidNamespace || cm.Name != uidConfigMap {
		return
	}
	n, ok := namerOf(cm)
	if !ok {
		return
	}
	g.mu.Lock()
	old := g.namer
	g.namer = n
	g.mu.Unlock()
	if old == n {
		return
	}
	g.logf(1, "ingress uid is now %q, firewall suffix %q (were %q, %q)", n.UID, n.FirewallSuffix, old.UID, old.FirewallSuffix)
	g.enqueueAll()
}
