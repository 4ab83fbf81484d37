// Command labrun verifies and replays the hands-on labs of markdown slide decks.
package main

import (
	"os"

	"github.com/labrun/labrun/cluster/fake/busybox"
)

func main() {
	// The fake cluster's containers run labrun's built-in busybox applets
	// through links named after them (ping, sleep...).
	if code, ok := busybox.Dispatch(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
