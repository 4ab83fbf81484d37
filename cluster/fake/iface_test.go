package fake

import "github.com/labrun/labrun/cluster"

// Server must satisfy cluster.Cluster (checked here so that the package
// itself builds while the cluster package is being edited).
var _ cluster.Cluster = (*Server)(nil)
