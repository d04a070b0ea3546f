// Package framework starts real federations for tests, benchmarks and
// `make run`: one etcd shared by member clusters (kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok for simulated nodes and
// pods, all real processes built by hack/install-test-binaries.sh), and the
// federation control plane as real processes of this repository's binaries.
//
// Every process is started with a parent-death signal and in its own process
// group, and Stop tears everything down, so nothing is left running when a
// test fails or is interrupted.
package framework
