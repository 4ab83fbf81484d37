// Command kubectl is the upstream kubectl, built from the pinned k8s.io/kubectl
// module so that labrun runs on machines that have Go but no kubectl.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Errors come out in kubectl's own words and exit codes.
		util.CheckErr(err)
		os.Exit(1)
	}
}
