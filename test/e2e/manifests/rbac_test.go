package manifests

import (
	"context"
	"fmt"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/test/framework"
)

// TestRBACObjectsAreTemplatesForMembers: a ClusterRoleBinding created in
// the federation is propagated, and grants in every member what it says,
// but nothing in the federation, whose authorization never reads the RBAC
// objects it holds. Who can do what in the federation does not change when
// someone creates a binding meant for the members.
func TestRBACObjectsAreTemplatesForMembers(t *testing.T) {
	ctx := context.Background()
	cert, key, err := fed.PKI.CA.IssueClient(t.TempDir(), "eve", "eve")
	if err != nil {
		t.Fatal(err)
	}
	as := func(e framework.Endpoint) kubernetes.Interface {
		e.CertFile, e.KeyFile = cert, key
		c, err := kubernetes.NewForConfig(e.RESTConfig())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	eveInFederation := as(fed.Endpoint)
	canListSecrets := func(ctx context.Context, c kubernetes.Interface) error {
		_, err := c.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
		return err
	}
	if err := canListSecrets(ctx, eveInFederation); !apierrors.IsForbidden(err) {
		t.Fatalf("before any binding, eve listing secrets in the federation: %v, want Forbidden", err)
	}

	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "eve-is-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "eve"}},
	}
	if _, err := fed.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = fed.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})

	// The binding takes effect in every member: proof that, by then, it
	// is stored and could have taken effect in the federation too.
	for _, m := range fed.Members {
		eveInMember := as(m.Endpoint)
		framework.Eventually(t, wait, "eve may list secrets in "+m.Name, func(ctx context.Context) error {
			return canListSecrets(ctx, eveInMember)
		})
	}
	if err := canListSecrets(ctx, eveInFederation); !apierrors.IsForbidden(err) {
		t.Errorf("with the binding propagated, eve listing secrets in the federation: %v, want Forbidden", err)
	}
	review, err := fed.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "eve",
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets", Namespace: "default"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if review.Status.Allowed {
		t.Errorf("the federation's SubjectAccessReview says eve may list secrets: %+v", review.Status)
	}

	// Deleting the binding in the federation takes it away in the members.
	if err := fed.Client.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range fed.Members {
		eveInMember := as(m.Endpoint)
		framework.Eventually(t, wait, "eve may no longer list secrets in "+m.Name, func(ctx context.Context) error {
			if err := canListSecrets(ctx, eveInMember); !apierrors.IsForbidden(err) {
				return fmt.Errorf("listing secrets: %v, want Forbidden", err)
			}
			return nil
		})
	}
}
