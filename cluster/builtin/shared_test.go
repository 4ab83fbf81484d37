package builtin

import "testing"

// SharedCluster is builtintest.Shared, set by main_test.go's TestMain: the
// benchmarks read unexported fields, so they are in-package tests, which
// cannot import builtintest (it imports this package).
var SharedCluster func(testing.TB) *Cluster

// sharedCluster is the test binary's one built-in cluster, the one the
// external tests get.
func sharedCluster(tb testing.TB) *Cluster { return SharedCluster(tb) }
