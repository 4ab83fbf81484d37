// Package testmain is the TestMain of test binaries that double as labrun's
// own executable: the cluster's containers run busybox applets through links
// to whatever binary started them, which in a test is the test binary.
package testmain

import (
	"os"
	"testing"

	"github.com/labrun/labrun/cluster/busybox"
)

// Main exits with the applet's status when the binary was started as a
// busybox applet, else with the first of roles that claims the run (it
// returns the exit code and true), else runs the tests.
func Main(m *testing.M, roles ...func() (code int, ok bool)) {
	if code, ok := busybox.Dispatch(os.Args); ok {
		os.Exit(code)
	}
	for _, role := range roles {
		if code, ok := role(); ok {
			os.Exit(code)
		}
	}
	os.Exit(m.Run())
}
