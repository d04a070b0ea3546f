// Package validation checks Cluster objects the way kube-apiserver checks
// its own kinds: every problem is a field.Error naming the field path.
package validation

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kfederation/federation/pkg/apis/federation"
)

// ValidateClusterName accepts DNS-1123 labels: cluster names appear in
// DNS records and in label values, so they must fit both.
var ValidateClusterName = apimachineryvalidation.NameIsDNSLabel

var (
	// conditionReason is the format metav1.Condition uses for reasons.
	conditionReason   = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`)
	conditionTypes    = sets.New(string(federation.ClusterReady), string(federation.ClusterOffline))
	conditionStatuses = sets.New(string(federation.ConditionTrue), string(federation.ConditionFalse), string(federation.ConditionUnknown))
)

// ValidateCluster validates a new Cluster.
func ValidateCluster(c *federation.Cluster) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&c.ObjectMeta, false, ValidateClusterName, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateClusterSpec(&c.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateClusterUpdate validates an update of a Cluster's spec and metadata.
func ValidateClusterUpdate(c, old *federation.Cluster) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateClusterSpec(&c.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateClusterStatusUpdate validates an update of a Cluster's status.
func ValidateClusterStatusUpdate(c, old *federation.Cluster) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateClusterStatus(&c.Status, field.NewPath("status"))...)
	return allErrs
}

// ValidateClusterSpec checks the member's addresses and credential reference.
func ValidateClusterSpec(spec *federation.ClusterSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	addrPath := fldPath.Child("serverAddressByClientCIDRs")
	if len(spec.ServerAddressByClientCIDRs) == 0 {
		allErrs = append(allErrs, field.Required(addrPath, "at least one server address is required, e.g. {clientCIDR: 0.0.0.0/0, serverAddress: https://10.0.0.1:6443}"))
	}
	seen := sets.New[string]()
	for i, a := range spec.ServerAddressByClientCIDRs {
		p := addrPath.Index(i)
		if a.ClientCIDR == "" {
			allErrs = append(allErrs, field.Required(p.Child("clientCIDR"), "use 0.0.0.0/0 to match every client"))
		} else if _, _, err := net.ParseCIDR(a.ClientCIDR); err != nil {
			allErrs = append(allErrs, field.Invalid(p.Child("clientCIDR"), a.ClientCIDR, "must be a CIDR such as 0.0.0.0/0 or 10.0.0.0/8"))
		} else if seen.Has(a.ClientCIDR) {
			allErrs = append(allErrs, field.Duplicate(p.Child("clientCIDR"), a.ClientCIDR))
		} else {
			seen.Insert(a.ClientCIDR)
		}
		allErrs = append(allErrs, validateServerAddress(a.ServerAddress, p.Child("serverAddress"))...)
	}
	if spec.SecretRef != nil {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(spec.SecretRef.Name, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("secretRef", "name"), spec.SecretRef.Name, msg))
		}
	}
	return allErrs
}

// validateServerAddress accepts https URLs and bare host[:port] addresses,
// which clients complete with https://.
func validateServerAddress(addr string, p *field.Path) field.ErrorList {
	if addr == "" {
		return field.ErrorList{field.Required(p, "the member API server's address, e.g. https://10.0.0.1:6443")}
	}
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return field.ErrorList{field.Invalid(p, addr, "must be an https URL or host[:port]")}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return field.ErrorList{field.Invalid(p, addr, "scheme must be https (or http)")}
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return field.ErrorList{field.Invalid(p, addr, "port must be between 1 and 65535")}
		}
	}
	return nil
}

// ValidateClusterStatus checks conditions written by the cluster controller.
func ValidateClusterStatus(status *federation.ClusterStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, c := range status.Conditions {
		p := fldPath.Child("conditions").Index(i)
		if !conditionTypes.Has(string(c.Type)) {
			allErrs = append(allErrs, field.NotSupported(p.Child("type"), c.Type, sets.List(conditionTypes)))
		} else if seen.Has(string(c.Type)) {
			allErrs = append(allErrs, field.Duplicate(p.Child("type"), c.Type))
		}
		seen.Insert(string(c.Type))
		if !conditionStatuses.Has(string(c.Status)) {
			allErrs = append(allErrs, field.NotSupported(p.Child("status"), c.Status, sets.List(conditionStatuses)))
		}
		if c.Reason != "" && !conditionReason.MatchString(c.Reason) {
			allErrs = append(allErrs, field.Invalid(p.Child("reason"), c.Reason, "must be a CamelCase word such as ClusterReady"))
		}
	}
	for i, z := range status.Zones {
		if z == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("zones").Index(i), "zone names may not be empty"))
		}
	}
	return allErrs
}

var propagationStates = sets.New(string(federation.PropagationPropagated), string(federation.PropagationPending), string(federation.PropagationFailed), string(federation.PropagationExcluded))

// ValidatePropagation validates a Propagation, new or updated.
func ValidatePropagation(p *federation.Propagation) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&p.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	st := field.NewPath("status")
	if p.Status.Object.Kind == "" {
		allErrs = append(allErrs, field.Required(st.Child("object", "kind"), "the federated object's kind"))
	}
	if p.Status.Object.Name == "" {
		allErrs = append(allErrs, field.Required(st.Child("object", "name"), "the federated object's name"))
	}
	seen := sets.New[string]()
	for i, c := range p.Status.Clusters {
		cp := st.Child("clusters").Index(i)
		if c.Cluster == "" {
			allErrs = append(allErrs, field.Required(cp.Child("cluster"), "the member cluster's name"))
		} else if seen.Has(c.Cluster) {
			allErrs = append(allErrs, field.Duplicate(cp.Child("cluster"), c.Cluster))
		}
		seen.Insert(c.Cluster)
		if !propagationStates.Has(string(c.State)) {
			allErrs = append(allErrs, field.NotSupported(cp.Child("state"), c.State, sets.List(propagationStates)))
		}
	}
	return allErrs
}

// ValidatePropagationUpdate validates an update of a Propagation.
func ValidatePropagationUpdate(p, old *federation.Propagation) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&p.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidatePropagation(p)...)
}
