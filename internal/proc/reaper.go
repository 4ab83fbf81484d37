package proc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// BecomeSubreaper makes this process a child subreaper: a process that a
// lab starts and detaches (`setsid cmd &`, a daemon) is reparented to us
// instead of init, so that Sweep still finds it and ends it.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Sweep kills every process still descending from this one and reaps the
// direct children among them; it returns what it ended, as "PID command".
// It is for the very end, after everything we started was closed: anything
// it finds escaped.
func Sweep() []string {
	self := os.Getpid()
	var ended []string
	for round := 0; round < 5; round++ {
		procs := Descendants(self)
		if len(procs) == 0 {
			break
		}
		for _, p := range procs {
			if unix.Kill(p.Pid, unix.SIGKILL) == nil && round == 0 {
				ended = append(ended, fmt.Sprintf("%d %s", p.Pid, p.Cmd))
			}
		}
		for _, p := range procs {
			if p.PPid == self {
				var ws unix.WaitStatus
				_, _ = unix.Wait4(p.Pid, &ws, 0, nil)
			}
		}
	}
	return ended
}
