package federation

import "strings"

// federatedName is a query name <service>.<namespace>.<federation>.svc.<cluster-domain>.
// split into its parts, all lower case.
type federatedName struct {
	service    string
	namespace  string
	federation string
	// clusterDomain is the cluster domain the name is under, e.g. "cluster.local.".
	clusterDomain string
}

// parseName splits name, a fully qualified query name in any case, into a
// federatedName. It reports false for every other name: one under none of
// clusterDomains (lower case, fully qualified, longest first), one without
// exactly three labels before "svc.<cluster-domain>", labels that are not
// DNS-1123 labels, or a federation that isn't in federations (keyed by lower
// case name).
func parseName(name string, clusterDomains []string, federations map[string]string) (federatedName, bool) {
	name = strings.ToLower(name)
	for _, domain := range clusterDomains {
		suffix := "svc." + domain
		if domain == "." {
			suffix = "svc."
		}
		head, ok := strings.CutSuffix(name, suffix)
		if !ok || !strings.HasSuffix(head, ".") {
			continue
		}
		labels := strings.Split(head[:len(head)-1], ".")
		if len(labels) != 3 || !isDNSLabel(labels[0]) || !isDNSLabel(labels[1]) || !isDNSLabel(labels[2]) {
			continue
		}
		if _, ok := federations[labels[2]]; !ok {
			continue
		}
		return federatedName{service: labels[0], namespace: labels[1], federation: labels[2], clusterDomain: domain}, true
	}
	return federatedName{}, false
}

// isDNSLabel reports whether s is a lower case RFC 1123 label: 1 to 63
// characters out of a-z, 0-9 and '-', starting and ending alphanumeric.
func isDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
