package upstream

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/labrun/labrun/cluster"
)

// components are the control plane's processes in start order.
var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// commands maps each component to the argv prefix that runs it: the
// multi-call binary with the component's name, or DIR/NAME.
func commands(binary, dir string) (map[string][]string, error) {
	cmds := make(map[string][]string, len(components))
	if dir != "" {
		var missing []string
		for _, name := range components {
			p := filepath.Join(dir, name)
			if !isExecutable(p) {
				missing = append(missing, name)
				continue
			}
			cmds[name] = []string{p}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("control-plane directory %s has no executable %s (labrun needs all of %s)",
				dir, strings.Join(missing, ", "), strings.Join(components, ", "))
		}
		return cmds, nil
	}
	if binary == "" {
		var err error
		if binary, err = (cluster.Tools{}).ControlPlane(); err != nil {
			return nil, err
		}
	} else if !isExecutable(binary) {
		return nil, fmt.Errorf("%s: not an executable file", binary)
	}
	for _, name := range components {
		cmds[name] = []string{binary, name}
	}
	return cmds, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
