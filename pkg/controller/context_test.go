package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, err := client.CoreV1().Events("ns").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range events.Items {
			got[e.Reason] = e.Source.Component
		}
		if len(got) == len(want) && got["FromA"] == want["FromA"] && got["FromB"] == want["FromB"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events written: %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
