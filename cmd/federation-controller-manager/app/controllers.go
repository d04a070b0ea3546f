package app

import (
	"context"

	"github.com/kfederation/federation/pkg/controller"
)

// startFunc starts one controller; it returns once the controller runs.
type startFunc func(ctx context.Context, c *controller.Context) error

// controllers is the one list of controllers, in start order; --controllers
// turns them on and off by name.
var controllers = []struct {
	name  string
	start startFunc
}{}

// ControllerNames lists every controller's name.
func ControllerNames() []string {
	names := make([]string, 0, len(controllers))
	for _, c := range controllers {
		names = append(names, c.name)
	}
	return names
}
