package clusterclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// TestStoredSinceCountsOnlyStoredWrites: a member's 2xx answer to a write
// counts as stored; a read, or a write it refused, does not.
func TestStoredSinceCountsOnlyStoredWrites(t *testing.T) {
	refuse := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && refuse:
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(&metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Code: 500})
			return
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
		}
		_ = json.NewEncoder(w).Encode(&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"},
		})
	}))
	defer srv.Close()
	r := NewRegistry("fed")
	c, err := r.Set("m", &rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Remove("m")
	ctx := context.Background()
	start := time.Now()
	cms := c.Shared.CoreV1().ConfigMaps("default")

	if _, err := cms.Get(ctx, "x", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if c.StoredSince(start) {
		t.Error("a read counted as a stored write")
	}
	refuse = true
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err == nil {
		t.Fatal("the refused create succeeded")
	}
	if c.StoredSince(start) {
		t.Error("a refused write counted as stored")
	}
	refuse = false
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if !c.StoredSince(start) {
		t.Error("a stored write did not count")
	}
	if c.StoredSince(time.Now().Add(time.Second)) {
		t.Error("StoredSince a time after the write says yes")
	}
}
