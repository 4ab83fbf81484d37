// Command labrun verifies and replays the hands-on labs of markdown slide decks.
package main

import (
	"os"

	"github.com/labrun/labrun/cluster/busybox"
	"github.com/labrun/labrun/cluster/network"
)

func main() {
	// The built-in cluster's run happens in a network namespace of its own.
	if code, exited := network.Enter(os.Args, os.Stderr); exited {
		os.Exit(code)
	}
	// The built-in cluster's containers run labrun's own busybox applets
	// through links named after them (ping, sleep...).
	if code, ok := busybox.Dispatch(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
