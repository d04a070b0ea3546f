package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// RepoRoot is the directory of this repository's go.mod.
func RepoRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && containsModule(data) {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("cannot find the repository root (go.mod of github.com/kfederation/federation) above the working directory")
				return
			}
			dir = parent
		}
	})
	return rootDir, rootErr
}

func containsModule(gomod []byte) bool {
	const want = "module github.com/kfederation/federation\n"
	return len(gomod) >= len(want) && string(gomod[:len(want)]) == want
}

// BinDir is where the binaries that tests start are: _output/bin.
func BinDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "_output", "bin"), nil
}

// OwnBinaries are this repository's commands that the framework starts.
var OwnBinaries = []string{"federation-apiserver", "federation-controller-manager", "kubefed"}

var (
	ensureOnce sync.Once
	ensureErr  error
)

// EnsureBinaries builds, once per process, the third-party servers (a no-op
// when hack/install-test-binaries.sh already built them at the pinned
// versions) and this repository's own commands, so that a test never runs a
// stale binary. A file lock keeps parallel test processes from building at
// the same time.
func EnsureBinaries() error {
	ensureOnce.Do(func() { ensureErr = ensureBinaries() })
	return ensureErr
}

func ensureBinaries() error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	bin := filepath.Join(root, "_output", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(root, "_output", ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck

	install := exec.Command("bash", filepath.Join(root, "hack", "install-test-binaries.sh"))
	install.Dir = root
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("hack/install-test-binaries.sh failed: %w\n%s", err, out)
	}
	var pkgs []string
	for _, name := range OwnBinaries {
		if _, err := os.Stat(filepath.Join(root, "cmd", name)); err == nil {
			pkgs = append(pkgs, "./cmd/"+name)
		}
	}
	build := exec.Command("go", append([]string{"build", "-o", bin + "/"}, pkgs...)...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v failed: %w\n%s", pkgs, err, out)
	}
	return nil
}

// Binary is the path of a binary in BinDir.
func Binary(name string) string {
	dir, err := BinDir()
	if err != nil {
		return name
	}
	return filepath.Join(dir, name)
}
