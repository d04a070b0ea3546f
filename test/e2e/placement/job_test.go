package placement

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/test/framework"
)

// job is a Job of app=name whose pods kwok runs to completion (its
// pod-complete stage completes the Running pods a Job owns).
func job(ns, name string, parallelism, completions int32, prefs string) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.JobSpec{
			Parallelism: ptr.To(parallelism),
			Completions: ptr.To(completions),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "work", Image: "busybox"}},
				},
			},
		},
	}
	if prefs != "" {
		j.Annotations = map[string]string{annotations.JobPreferences: prefs}
	}
	return j
}

// jobCopy is what a member's copy of a Job was given, and has done.
type jobCopy struct {
	parallelism int32
	completions *int32
	succeeded   int32
}

// memberJobs returns the member copies of a Job, by member; a member
// without a copy is absent.
func memberJobs(ctx context.Context, ns, name string) (map[string]jobCopy, error) {
	out := map[string]jobCopy{}
	for _, m := range fed.Members {
		j, err := m.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		out[m.Name] = jobCopy{parallelism: ptr.Deref(j.Spec.Parallelism, 1), completions: j.Spec.Completions, succeeded: j.Status.Succeeded}
	}
	return out, nil
}

// describeJobs says, member by member, what each copy was given and has
// done, for failure messages.
func describeJobs(copies map[string]jobCopy) string {
	var parts []string
	for _, m := range fed.Members {
		cp, ok := copies[m.Name]
		switch {
		case !ok:
			parts = append(parts, m.Name+": no copy")
		case cp.completions == nil:
			parts = append(parts, fmt.Sprintf("%s: parallelism %d, completions unset, succeeded %d", m.Name, cp.parallelism, cp.succeeded))
		default:
			parts = append(parts, fmt.Sprintf("%s: parallelism %d, completions %d, succeeded %d", m.Name, cp.parallelism, *cp.completions, cp.succeeded))
		}
	}
	return strings.Join(parts, "; ")
}

// splitTotals sums the copies' parallelism and completions.
func splitTotals(copies map[string]jobCopy) (parallelism, completions int32) {
	for _, cp := range copies {
		parallelism += cp.parallelism
		completions += ptr.Deref(cp.completions, 0)
	}
	return parallelism, completions
}

// TestJobCompletionsFollowParallelism: a federated Job's completions are
// split with its parallelism, so that no member is given completions it
// has no pods to run, and the federated Job completes. Members the Job's
// preferences leave out get neither.
func TestJobCompletionsFollowParallelism(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		parallelism, completions int32
		prefs                    string
		// leftOut are members the preferences give nothing.
		leftOut []string
	}{
		{
			// Parallelism 2 over 3 members leaves one member without
			// pods; an even split of the completions would give it 2
			// that it never runs.
			name:        "even",
			parallelism: 2,
			completions: 6,
		},
		{
			// second has no entry and there is no "*" entry.
			name:        "preferences",
			parallelism: 3,
			completions: 5,
			prefs:       fmt.Sprintf(`{"clusters": {%q: {"weight": 1}, %q: {"weight": 1}}}`, small, third),
			leftOut:     []string{second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ns := "placement-job-" + tc.name
			name := "work"
			createNamespace(t, ns)
			t.Cleanup(func() {
				_ = fed.Client.BatchV1().Jobs(ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
				_ = fed.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
			})
			if _, err := fed.Client.BatchV1().Jobs(ns).Create(ctx, job(ns, name, tc.parallelism, tc.completions, tc.prefs), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}

			// Completions are immutable: once the copies add up to the
			// federated parallelism and completions, the split is the one
			// the members keep.
			var copies map[string]jobCopy
			framework.Eventually(t, 60*time.Second, "member copies add up to the federated parallelism and completions", func(ctx context.Context) error {
				var err error
				if copies, err = memberJobs(ctx, ns, name); err != nil {
					return err
				}
				if p, c := splitTotals(copies); p != tc.parallelism || c != tc.completions {
					return fmt.Errorf("member copies add up to parallelism %d and completions %d, want %d and %d; %s", p, c, tc.parallelism, tc.completions, describeJobs(copies))
				}
				return nil
			})
			t.Logf("split: %s", describeJobs(copies))
			for _, m := range fed.Members {
				cp, ok := copies[m.Name]
				if !ok {
					continue
				}
				n := ptr.Deref(cp.completions, 0)
				switch {
				case slices.Contains(tc.leftOut, m.Name) && (cp.parallelism != 0 || n != 0):
					t.Errorf("member %s, which the preferences leave out, got parallelism %d and completions %d, want 0 and 0 (split: %s)", m.Name, cp.parallelism, n, describeJobs(copies))
				case cp.parallelism == 0 && n != 0:
					t.Errorf("member %s got parallelism 0 and completions %d: no pod of it ever runs, so the federated Job never completes (split: %s)", m.Name, n, describeJobs(copies))
				}
			}
			if t.Failed() {
				// Completions given to a member without parallelism never
				// succeed: waiting for the federated Job would only time
				// out.
				t.FailNow()
			}

			framework.Eventually(t, 90*time.Second, "the federated Job completes", func(ctx context.Context) error {
				j, err := fed.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				if j.Status.Succeeded != tc.completions {
					copies, err := memberJobs(ctx, ns, name)
					if err != nil {
						return err
					}
					return fmt.Errorf("federated status.succeeded %d, want %d; %s", j.Status.Succeeded, tc.completions, describeJobs(copies))
				}
				return nil
			})
		})
	}
}
