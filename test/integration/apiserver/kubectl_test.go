package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/test/framework"
)

// kubectlTimeout bounds one kubectl invocation, so that a hung server fails
// the test with kubectl's output instead of running into the test timeout.
const kubectlTimeout = time.Minute

// kubectl runs the real kubectl binary against one context of a kubeconfig,
// exactly as a user would.
type kubectl struct {
	kubeconfig string
	context    string
	// env is added to kubectl's environment (KUBE_EDITOR, for one).
	env []string
}

// newKubectl returns a kubectl for the context of the kubeconfig.
func newKubectl(kubeconfig, context string) kubectl {
	return kubectl{kubeconfig: kubeconfig, context: context}
}

// withEnv returns a kubectl that also sets the given environment variables.
func (k kubectl) withEnv(env ...string) kubectl {
	k.env = append(append([]string(nil), k.env...), env...)
	return k
}

// command is kubectl with args, ended when ctx is.
func (k kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, framework.Binary("kubectl"), append([]string{"--context=" + k.context}, args...)...)
	// A clean environment: the developer's own KUBECONFIG, kuberc
	// preferences or cache must not leak into the test.
	cmd.Env = append([]string{
		"KUBECONFIG=" + k.kubeconfig,
		"KUBERC=off",
		"HOME=" + os.Getenv("HOME"),
		"PATH=" + os.Getenv("PATH"),
		// Discovery is cached beside the kubeconfig: fresh for every
		// federation, and removed with it.
		"KUBECACHEDIR=" + filepath.Join(filepath.Dir(k.kubeconfig), "kubectl-cache"),
	}, k.env...)
	return cmd
}

// run runs kubectl with stdin and returns what it wrote and how it ended.
func (k kubectl) run(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := k.command(ctx, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// ok runs kubectl, fails the test unless it succeeds, and returns stdout.
func (k kubectl) ok(t testing.TB, args ...string) string {
	t.Helper()
	return k.okIn(t, "", args...)
}

// okIn is ok with stdin.
func (k kubectl) okIn(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := k.run(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs kubectl, fails the test if it succeeds, and returns its
// combined output, which holds the error the user would see.
func (k kubectl) fails(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, err := k.run("", args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, want an error\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errOut)
	}
	return out + errOut
}

// watchUntil runs a long-running kubectl (get --watch) and returns the
// lines it printed once one matches want; act runs after the first line,
// when kubectl has certainly established its watch.
func (k kubectl) watchUntil(t testing.TB, timeout time.Duration, want *regexp.Regexp, act func(), args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := k.command(ctx, args...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	var seen []string
	acted := false
	for line := range lines {
		seen = append(seen, line)
		if want.MatchString(line) {
			// Ending kubectl closes its stdout, which ends the reader.
			cancel()
			for range lines {
			}
			_ = cmd.Wait()
			return seen
		}
		// The header comes first, the current state of the object second:
		// only after that is the watch open.
		if !acted && len(seen) >= 2 {
			acted = true
			act()
		}
	}
	_ = cmd.Wait()
	t.Fatalf("kubectl %s never printed a line matching %q within %s; it printed:\n%s\nstderr:\n%s",
		strings.Join(args, " "), want, timeout, strings.Join(seen, "\n"), errOut.String())
	return nil
}

// columnSep separates the columns of kubectl's table output: two or more
// spaces, since headers such as "SERVER ADDRESS" contain one.
var columnSep = regexp.MustCompile(`\s{2,}`)

// tableHeader returns the column names of the first line of kubectl's table
// output.
func tableHeader(out string) []string {
	first, _, _ := strings.Cut(out, "\n")
	return columnSep.Split(strings.TrimSpace(first), -1)
}

// tableRows returns the data rows of kubectl's table output, split into
// cells.
func tableRows(out string) [][]string {
	var rows [][]string
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[1:] {
		rows = append(rows, columnSep.Split(strings.TrimSpace(l), -1))
	}
	return rows
}

// names returns the names printed by -o name, one a line, without their
// resource prefix.
func names(out string) []string {
	var ns []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		_, name, ok := strings.Cut(l, "/")
		if !ok {
			name = l
		}
		ns = append(ns, name)
	}
	return ns
}

// mustContain fails the test unless out contains every one of wants.
func mustContain(t testing.TB, what, out string, wants ...string) {
	t.Helper()
	var missing []string
	for _, w := range wants {
		if !strings.Contains(out, w) {
			missing = append(missing, fmt.Sprintf("%q", w))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s lacks %s; it is:\n%s", what, strings.Join(missing, ", "), out)
	}
}
