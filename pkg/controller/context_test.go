package controller

import (
	"context"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestRecordersShareOneBroadcasterAndKeepTheirComponents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewClientset()
	cctx := &Context{KubeClient: client}
	a := cctx.Recorder(ctx, scheme.Scheme, "federation-a")
	first := cctx.events
	b := cctx.Recorder(ctx, scheme.Scheme, "federation-b")
	if cctx.events != first {
		t.Fatal("the second recorder got a broadcaster of its own")
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x", UID: "u"}}
	a.Event(cm, corev1.EventTypeNormal, "FromA", "one")
	b.Event(cm, corev1.EventTypeNormal, "FromB", "two")

	want := map[string]string{"FromA": "federation-a", "FromB": "federation-b"}
	got := map[string]string{}
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		events, err := client.CoreV1().Events("ns").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		got = map[string]string{}
		for _, e := range events.Items {
			got[e.Reason] = e.Source.Component
		}
		return maps.Equal(got, want), nil
	})
	if err != nil {
		t.Fatalf("events written: %v, want %v (%v)", got, want, err)
	}
}
