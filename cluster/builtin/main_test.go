package builtin_test

import (
	"testing"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
)

// The tests share one built-in cluster, in a network namespace of the test
// binary's own, as a run has it; the binary doubles as the busybox its
// containers run.
func TestMain(m *testing.M) { builtintest.Main(m) }
