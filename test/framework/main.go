package framework

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// MainOptions describe the federation a whole test package shares.
type MainOptions struct {
	Options
	// Register registers every member (as f.RegisterAll does) and waits
	// until each is Ready before the tests run; Join does the same with
	// `kubefed join`, so the federation has only the permissions in the
	// members that kubefed grants.
	Register bool
	Join     bool
}

// RunMain starts one federation for all the tests of a package, hands it to
// use, runs the tests and stops it; it returns the exit code for TestMain.
// On failure the logs stay and their place is printed.
//
//	func TestMain(m *testing.M) {
//		os.Exit(framework.RunMain(m, framework.MainOptions{...}, func(f *framework.Federation) { fed = f }))
//	}
func RunMain(m *testing.M, opts MainOptions, use func(*Federation)) int {
	if err := EnsureBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "federation-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		opts.Dir = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, err := Start(ctx, opts.Options)
	if err != nil {
		fmt.Fprintf(os.Stderr, "start federation (logs in %s): %v\n", opts.Dir, err)
		return 1
	}
	defer f.Stop()
	if opts.Register || opts.Join {
		if err := register(ctx, f, opts.Join); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := f.WaitClustersReady(ctx, 2*time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	use(f)
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "logs of the federation are in %s\n", f.LogDir)
		return code
	}
	f.Stop()
	_ = os.RemoveAll(opts.Dir)
	return code
}

func register(ctx context.Context, f *Federation, join bool) error {
	if !join {
		return f.RegisterAll(ctx)
	}
	for _, m := range f.Members {
		if err := f.Join(ctx, m, nil); err != nil {
			return err
		}
	}
	return nil
}
