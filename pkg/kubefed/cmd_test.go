package kubefed

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kfederation/federation/pkg/kubefed/clioptions"
)

func TestRootCommand(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{args: []string{"version"}, wantOut: "kubefed v"},
		{args: []string{"--help"}, wantOut: "unjoin"},
		{args: []string{"join", "--help"}, wantOut: "--host-cluster-context"},
		{args: []string{"join"}, wantErr: "exactly one argument, the CLUSTER_NAME"},
		{args: []string{"unjoin", "a", "b"}, wantErr: "exactly one argument"},
		{args: []string{"init"}, wantErr: "the federation NAME"},
		{args: []string{"jion"}, wantErr: `unknown command "jion"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			cmd := NewKubefedCommand(clioptions.IOStreams{Out: &out, ErrOut: &out})
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case !strings.Contains(out.String(), tc.wantOut):
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out.String())
			}
		})
	}
}
