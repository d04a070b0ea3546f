package controllertest

import (
	"strings"

	"k8s.io/client-go/tools/record"
)

// TakeEvents returns the events r recorded since the last call.
func TakeEvents(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case ev := <-r.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// CountEvents counts the events that start with prefix ("Warning
// DNSNameConflict").
func CountEvents(events []string, prefix string) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}
