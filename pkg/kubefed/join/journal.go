package join

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// rollbackTimeout bounds undoing a failed join: the clusters just answered,
// so this is plenty, and a hanging cluster must not keep the user waiting.
const rollbackTimeout = 30 * time.Second

// journal records what one run of join created, newest last, so that a
// failure halfway leaves the clusters as they were. Objects the run found
// already there are never recorded: they are not this run's to remove.
type journal struct {
	out   io.Writer
	steps []undoStep
}

type undoStep struct {
	// what is the object, as progress lines name it.
	what string
	// manual is the command that removes it, for when undo fails.
	manual string
	undo   func(context.Context) error
}

func (j *journal) created(what, manual string, undo func(context.Context) error) {
	j.steps = append(j.steps, undoStep{what: what, manual: manual, undo: undo})
}

// rollback undoes every recorded step, newest first, and returns cause
// saying whether that worked, and if not, exactly what is left to delete.
func (j *journal) rollback(cause error) error {
	if len(j.steps) == 0 {
		return cause
	}
	// The run's own context may be what failed (a timeout, ^C): undo with a
	// fresh one.
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	var left []string
	for i := len(j.steps) - 1; i >= 0; i-- {
		s := j.steps[i]
		if err := s.undo(ctx); err != nil && !apierrors.IsNotFound(err) {
			fmt.Fprintf(j.out, "Could not roll back %s: %v\n", s.what, err)
			left = append(left, s.manual)
			continue
		}
		fmt.Fprintf(j.out, "Rolled back: deleted %s\n", s.what)
	}
	if len(left) == 0 {
		return fmt.Errorf("%w\n(join rolled back everything it had created)", cause)
	}
	return fmt.Errorf("%w\njoin could not roll back everything it had created; remove the rest with:\n  %s", cause, strings.Join(left, "\n  "))
}
