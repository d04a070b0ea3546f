package chaos

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kfederation/federation/test/framework"
)

// Fault is one thing that goes wrong, and puts itself right.
type Fault struct {
	Name   string
	Inject func(ctx context.Context) error
}

// ControlPlaneFaults are the faults an HA federation (framework Options.HA)
// must survive: an apiserver, an etcd member and the leading controller
// manager SIGKILLed (and started again, as their supervisor would), and a
// member cut off (SIGSTOP) for cutOff.
func ControlPlaneFaults(f *framework.Federation, cutOff time.Duration) []Fault {
	return []Fault{
		{"federation-apiserver SIGKILL", func(context.Context) error { return killAndRestart(f.APIServers[len(f.APIServers)-1]) }},
		{"etcd member SIGKILL", func(context.Context) error { return killAndRestart(f.EtcdCluster.Members[1].Process) }},
		{"leading controller manager SIGKILL", func(ctx context.Context) error {
			// Right after another fault the lease may be changing hands.
			var leader *framework.Process
			err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
				l, err := LeadingControllerManager(f)
				leader = l
				return err == nil, nil
			})
			if err != nil {
				return fmt.Errorf("no controller manager leads: %w", err)
			}
			return killAndRestart(leader)
		}},
		{fmt.Sprintf("member %s cut off (SIGSTOP) for %s", f.Members[0].Name, cutOff), func(context.Context) error {
			p := f.Members[0].APIServer
			if err := p.CutOff(); err != nil {
				return err
			}
			time.Sleep(cutOff)
			return p.Reconnect()
		}},
	}
}

// MemberFaults are what a member does to the federation's writes: its
// kube-apiserver restarted, and a quota that refuses new ConfigMaps in ns
// for refuse.
func MemberFaults(f *framework.Federation, ns string, refuse time.Duration) []Fault {
	m := f.Members[len(f.Members)-1]
	return []Fault{
		{fmt.Sprintf("member %s kube-apiserver restarted", m.Name), func(ctx context.Context) error {
			if err := m.APIServer.Restart(); err != nil {
				return err
			}
			return m.WaitReady(ctx)
		}},
		{fmt.Sprintf("member %s refuses new ConfigMaps (quota) for %s", m.Name, refuse), func(ctx context.Context) error {
			quota := &corev1.ResourceQuota{
				ObjectMeta: metav1.ObjectMeta{Name: "chaos-no-configmaps"},
				Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/configmaps": resource.MustParse("0")}},
			}
			if _, err := m.Client.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
				return err
			}
			time.Sleep(refuse)
			return m.Client.CoreV1().ResourceQuotas(ns).Delete(ctx, quota.Name, metav1.DeleteOptions{})
		}},
	}
}

// Supervise starts again every control-plane process that has exited, as
// the kubelet restarts a pod's container (a controller manager that loses
// its lease exits on purpose, so that two never act), and names each.
func Supervise(f *framework.Federation) []string {
	var restarted []string
	procs := append(append([]*framework.Process{}, f.APIServers...), f.ControllerManagers...)
	if f.EtcdCluster != nil {
		for _, m := range f.EtcdCluster.Members {
			procs = append(procs, m.Process)
		}
	}
	for _, p := range procs {
		if p.Running() {
			continue
		}
		p.Kill() // forget the exited process
		if err := p.Start(); err != nil {
			restarted = append(restarted, fmt.Sprintf("%s (cannot start: %v)", p.Name, err))
			continue
		}
		restarted = append(restarted, p.Name)
	}
	return restarted
}

// killAndRestart SIGKILLs p and starts it again 2 seconds later.
func killAndRestart(p *framework.Process) error {
	p.Kill()
	time.Sleep(2 * time.Second)
	return p.Start()
}

// LeadingControllerManager is the controller manager that holds the
// lease: the running one whose log says it acquired the lease since it
// last started. One that loses the lease exits at once (so that two never
// act), so there is one such process, except for the moment of a
// hand-over, which is an error: ask again.
func LeadingControllerManager(f *framework.Federation) (*framework.Process, error) {
	var leaders []*framework.Process
	for _, cm := range f.ControllerManagers {
		if !cm.Running() {
			continue
		}
		log, err := os.ReadFile(cm.LogPath)
		if err != nil {
			return nil, err
		}
		// A restarted process appends to its log after a "====" line:
		// only what it said since counts.
		text := string(log)
		if i := strings.LastIndex(text, "\n==== "); i >= 0 {
			text = text[i:]
		}
		if strings.Contains(strings.ToLower(text), "successfully acquired lease") {
			leaders = append(leaders, cm)
		}
	}
	if len(leaders) != 1 {
		return nil, fmt.Errorf("%d running controller managers say they acquired the lease, want 1", len(leaders))
	}
	return leaders[0], nil
}
