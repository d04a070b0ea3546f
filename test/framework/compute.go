package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"

	"github.com/kfederation/federation/test/fakecompute"
	"github.com/kfederation/federation/test/fakeglbc"
)

// ComputeProject is the name of the simulated Google Cloud project that a
// federation started with Options.Compute runs in.
const ComputeProject = "federation-test"

// CloudProject is a federation's simulated Google Cloud project: a fake
// Compute Engine API that every member's stand-in for GCE's ingress
// controller (fakeglbc) and the controller manager talk to with the real
// compute/v1 client.
type CloudProject struct {
	Server  *fakecompute.Server
	Project string
	// Service is a compute/v1 client of the fake, for tests to look.
	Service *compute.Service
	// ConfigFile is the controller manager's --cloud-config.
	ConfigFile string
}

// StartCloudProject starts the fake Compute Engine API and writes the
// controller manager's configuration for it into dir.
func StartCloudProject(ctx context.Context, dir string) (*CloudProject, error) {
	s := fakecompute.New()
	s.Start()
	svc, err := compute.NewService(ctx, option.WithEndpoint(s.Endpoint()), option.WithoutAuthentication())
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.Close()
		return nil, err
	}
	p := &CloudProject{Server: s, Project: ComputeProject, Service: svc, ConfigFile: filepath.Join(dir, "cloud-config.yaml")}
	config := fmt.Sprintf("project: %s\nnetwork: default\nendpoint: %s\n", p.Project, s.Endpoint())
	if err := os.WriteFile(p.ConfigFile, []byte(config), 0o600); err != nil {
		s.Close()
		return nil, err
	}
	return p, nil
}

// ControllerManagerArgs are the flags that point the controller manager at
// the project.
func (p *CloudProject) ControllerManagerArgs() []string {
	return []string{"--cloud-provider=gce", "--cloud-config=" + p.ConfigFile}
}

// Stop stops the fake API.
func (p *CloudProject) Stop() { p.Server.Close() }

// StartGLBC runs a stand-in for GCE's ingress controller in the member,
// programming p, until the member stops; the member's cloud simulator
// leaves GCE Ingresses to it from then on.
func (m *Member) StartGLBC(ctx context.Context, p *CloudProject) error {
	if m.Zone == "" {
		return fmt.Errorf("member %s has no zone: GCE's ingress controller needs one", m.Name)
	}
	m.cloud.leaveGCE.Store(true)
	_, err := fakeglbc.Start(m.cloudCtx, fakeglbc.Options{
		Cluster: m.Name,
		Client:  m.Client,
		Compute: p.Service,
		Project: p.Project,
		Zone:    m.Zone,
	})
	if err != nil {
		return fmt.Errorf("member %s: %w", m.Name, err)
	}
	return nil
}
