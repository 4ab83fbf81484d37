package proc

import (
	"os/exec"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// WaitGone waits until every process in pids has exited or the deadline
// passes, sleeping in epoll on pidfds (no polling). It returns the pids
// still alive.
func WaitGone(pids []int, deadline time.Time) []int {
	if len(pids) == 0 {
		return nil
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return pids
	}
	defer unix.Close(ep)
	alive := map[int32]int{} // pidfd → pid
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // already gone (ESRCH)
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev) != nil {
			unix.Close(fd)
			continue
		}
		alive[int32(fd)] = pid
	}
	defer func() {
		for fd := range alive {
			unix.Close(int(fd))
		}
	}()
	events := make([]unix.EpollEvent, 16)
	for len(alive) > 0 {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			break
		}
		n, err := unix.EpollWait(ep, events, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			break
		}
		for _, ev := range events[:n] {
			unix.Close(int(ev.Fd))
			delete(alive, ev.Fd)
		}
	}
	var left []int
	for _, pid := range alive {
		left = append(left, pid)
	}
	return left
}

// WaitGroup waits for cmd, started as the leader of its own process group,
// to exit; then it ends what is left of the group and only then reaps the
// leader with cmd.Wait. While the leader is an unreaped zombie its pid
// cannot be reused, so the group id still names only our processes: a kill
// sent after the reap could reach a stranger's group once pids wrap (this
// machine's pid_max can be as low as 32768). locked, if not nil, is held
// around the kill, so that a caller can stop signalling the group by its
// number once WaitGroup has killed it.
func WaitGroup(cmd *exec.Cmd, locked sync.Locker) error {
	pid := cmd.Process.Pid
	var info unix.Siginfo
	for {
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != unix.EINTR {
			break
		}
	}
	if locked != nil {
		locked.Lock()
		defer locked.Unlock()
	}
	_ = unix.Kill(-pid, unix.SIGKILL)
	return cmd.Wait()
}
