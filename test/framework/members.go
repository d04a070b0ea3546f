package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// AddMembersParallelism is how many members AddMembers starts at a time: a
// kube-apiserver's start-up takes one to two seconds of processor time, and
// more at once on a small machine only makes each slower to answer /readyz.
var AddMembersParallelism = 4

// AddMembers starts members on the federation's shared etcd, each under
// its own prefix as Start's are, AddMembersParallelism at a time, appends
// them to f.Members (in the order of opts, so that Stop stops them too),
// adds them to the kubeconfig and registers them (Register). A member
// without CPUs of its own is pinned as Start pins its members: to the CPUs
// of the shared etcd (Options.MemberCPUs). On error, the members that did
// start are still appended and registered, so that f.Members and the
// federation's Clusters agree, and the error says which did not.
func (f *Federation) AddMembers(ctx context.Context, opts []MemberOptions) error {
	started := make([]*Member, len(opts))
	errs := make([]error, len(opts))
	sem := make(chan struct{}, max(1, AddMembersParallelism))
	var wg sync.WaitGroup
	for i, mo := range opts {
		if f.Member(mo.Name) != nil {
			errs[i] = fmt.Errorf("member %s: already in the federation", mo.Name)
			continue
		}
		if mo.CPUs == nil && f.Etcd != nil {
			mo.CPUs = f.Etcd.CPUs
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = fmt.Errorf("member %s: %w", mo.Name, ctx.Err())
				return
			}
			defer func() { <-sem }()
			started[i], errs[i] = StartMember(ctx, f.Etcd, f.PKI, filepath.Join(f.Dir, "members"), f.LogDir, mo)
		}()
	}
	wg.Wait()
	var added []*Member
	for _, m := range started {
		if m != nil {
			added = append(added, m)
		}
	}
	f.Members = append(f.Members, added...)
	if err := f.writeKubeconfig(); err != nil {
		errs = append(errs, err)
	}
	for _, m := range added {
		if err := f.Register(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// leanRegions spread LeanMembers over regions, three zones each.
var leanRegions = []string{"us-central1", "europe-west1", "asia-east1", "us-east1", "europe-west4", "asia-northeast1"}

// LeanMembers are Lean members member-<from> to member-<to> (two digits at
// least: member-01), spread round-robin over six regions and, within a
// region, over its zones a, b and c: member-01 is in us-central1-a,
// member-07 in us-central1-b.
func LeanMembers(from, to int) []MemberOptions {
	var out []MemberOptions
	for i := from; i <= to; i++ {
		region := leanRegions[(i-1)%len(leanRegions)]
		zone := region + "-" + string(rune('a'+((i-1)/len(leanRegions))%3))
		out = append(out, MemberOptions{Name: fmt.Sprintf("member-%02d", i), Zone: zone, Region: region, Lean: true})
	}
	return out
}

// TCPPeers are the remote addresses ("127.0.0.1:6443") of the running
// process's established TCP connections.
func (p *Process) TCPPeers() ([]string, error) {
	return p.tcpSockets(tcpEstablished, 2)
}

// TCPListeners are the local addresses ("127.0.0.1:6443") the running
// process listens on over TCP.
func (p *Process) TCPListeners() ([]string, error) {
	return p.tcpSockets(tcpListen, 1)
}

// States in the kernel's TCP tables.
const (
	tcpEstablished = "01"
	tcpListen      = "0A"
)

// tcpSockets are an address column (1 local, 2 remote) of the running
// process's TCP sockets in a state: its sockets (/proc/<pid>/fd) matched
// against the kernel's TCP tables (/proc/<pid>/net/tcp and tcp6).
func (p *Process) tcpSockets(state string, column int) ([]string, error) {
	fdDir, err := p.procPath("fd")
	if err != nil {
		return nil, err
	}
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	var addrs []string
	for _, table := range []string{"net/tcp", "net/tcp6"} {
		data, err := p.procFile(table)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when
			// retrnsmt uid timeout inode
			fields := strings.Fields(line)
			if len(fields) < 10 || fields[3] != state || !inodes[fields[9]] {
				continue
			}
			if addr, err := parseProcAddr(fields[column]); err == nil {
				addrs = append(addrs, addr)
			}
		}
	}
	return addrs, nil
}

// parseProcAddr turns /proc/net/tcp's "0100007F:1F90" (the address as the
// kernel stores it, 32-bit words in host order, here little-endian; the
// port in hex) into "127.0.0.1:8080".
func parseProcAddr(s string) (string, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok || len(hexIP)%8 != 0 {
		return "", fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return "", err
	}
	ip := make(net.IP, 0, len(hexIP)/2)
	for w := 0; w < len(hexIP); w += 8 {
		word, err := strconv.ParseUint(hexIP[w:w+8], 16, 32)
		if err != nil {
			return "", err
		}
		ip = append(ip, byte(word), byte(word>>8), byte(word>>16), byte(word>>24))
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)), nil
}
