// Package proc is labrun's one place for process handling on Linux: reading
// /proc, running a tool in its own process group and ending that group,
// waiting for processes to go, the subreaper sweep, and the terminal ioctls
// a pane needs. It imports nothing of ours.
package proc
