package v1beta1

// FederationSystemNamespace is the federation's own namespace: it holds the
// member clusters' credential Secrets and the controller manager's leader
// lease. Nothing in it is ever propagated to members.
const FederationSystemNamespace = "federation-system"

// PreferredServerAddress is the address in addrs meant for every client
// (client CIDR 0.0.0.0/0 or ::/0), else the first one; "" when addrs is
// empty. Controllers connect to it, and `kubectl get clusters` shows it.
func PreferredServerAddress(addrs []ServerAddressByClientCIDR) string {
	for _, a := range addrs {
		if a.ClientCIDR == "0.0.0.0/0" || a.ClientCIDR == "::/0" {
			return a.ServerAddress
		}
	}
	if len(addrs) > 0 {
		return addrs[0].ServerAddress
	}
	return ""
}
