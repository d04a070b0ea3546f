package clusterclient

import (
	"net/http"
	"sync/atomic"
	"time"
)

// A member that keeps storing the federation's writes is in use, however
// slowly its /readyz answers: under load a member's health check waits for
// processor time like any request, and its etcd check can miss its own
// deadline while the writes behind it still go through. The cluster
// controller asks StoredSince before it counts a failed probe against a
// Ready member (see the cluster package's tolerate), so that an overloaded
// member is slowed down by the write allowance rather than dropped and
// brought back, which queues every federated object twice.

// storedStamp is a RoundTripper that notes the time of each write the
// member stored: a 2xx answer to a POST, PUT, PATCH or DELETE. Reads do
// not count: a kube-apiserver serves them from its watch cache even with
// its etcd gone.
type storedStamp struct {
	next http.RoundTripper
	last *atomic.Int64 // unix nanoseconds
}

func (s storedStamp) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		switch req.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			s.last.Store(time.Now().UnixNano())
		}
	}
	return resp, err
}

// StoredSince says the member stored a write of the federation's (any
// controller's, through the clients this Cluster holds but Kube) at or
// after t.
func (c *Cluster) StoredSince(t time.Time) bool {
	if c.lastStored == nil {
		return false
	}
	last := c.lastStored.Load()
	return last != 0 && !time.Unix(0, last).Before(t)
}
