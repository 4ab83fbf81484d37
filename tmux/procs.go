package tmux

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// procInfo is what /proc/PID/stat says about a process's place in the job
// control hierarchy.
type procInfo struct {
	pid, ppid, pgid, sid int
	tty                  int // the session's controlling terminal (tty_nr)
	state                byte
}

// readProc parses /proc/PID/stat; the command name may hold spaces and
// parentheses, so fields are counted after the last ')'.
func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procInfo{}, false
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 5 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, state: f[0][0]}
	p.ppid, _ = strconv.Atoi(string(f[1]))
	p.pgid, _ = strconv.Atoi(string(f[2]))
	p.sid, _ = strconv.Atoi(string(f[3]))
	p.tty, _ = strconv.Atoi(string(f[4]))
	return p, true
}

// sessionProcs lists the live (not zombie) processes of session sid.
func sessionProcs(sid int) []int { return sessionProcsOn(sid, 0) }

// sessionProcsOn lists the live processes of session sid whose controlling
// terminal is tty (a device number; 0: any). Once a pane's shell is reaped
// its pid, and so the session id, can be reused by a stranger's session
// (pids wrap fast where pid_max is small); the terminal tells them apart,
// since the pane's pty stays ours until the pane is closed.
func sessionProcsOn(sid, tty int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		p, ok := readProc(pid)
		if ok && p.sid == sid && (tty == 0 || p.tty == tty) && p.state != 'Z' && p.state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

const sysPidfdOpen = 434 // the same number on every Linux architecture

// waitGone waits until every process in pids has exited or the deadline
// passes, sleeping in epoll on pidfds (no polling). It returns the pids
// still alive.
func waitGone(pids []int, deadline time.Time) []int {
	if len(pids) == 0 {
		return nil
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return pids
	}
	defer syscall.Close(ep)
	alive := map[int32]int{} // pidfd → pid
	for _, pid := range pids {
		fd, _, e := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
		if e != 0 {
			continue // already gone (ESRCH)
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
		if syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, int(fd), &ev) != nil {
			syscall.Close(int(fd))
			continue
		}
		alive[int32(fd)] = pid
	}
	defer func() {
		for fd := range alive {
			syscall.Close(int(fd))
		}
	}()
	events := make([]syscall.EpollEvent, 16)
	for len(alive) > 0 {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			break
		}
		n, err := syscall.EpollWait(ep, events, ms)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			break
		}
		for _, ev := range events[:n] {
			syscall.Close(int(ev.Fd))
			delete(alive, ev.Fd)
		}
	}
	var left []int
	for _, pid := range alive {
		left = append(left, pid)
	}
	return left
}

// rawControl runs f on the descriptor of a pollable file without switching
// it to blocking mode (which os.File.Fd would do).
func rawControl(f *os.File, fn func(fd uintptr) error) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) { ferr = fn(fd) }); err != nil {
		return err
	}
	return ferr
}

func ioctl(fd, req, arg uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg); e != 0 {
		return e
	}
	return nil
}

// setWinsize sets the terminal size; the kernel then sends SIGWINCH to the
// terminal's foreground process group, as a terminal window's resize does.
func setWinsize(ptm *os.File, cols, rows int) error {
	ws := struct{ rows, cols, x, y uint16 }{uint16(rows), uint16(cols), 0, 0}
	return rawControl(ptm, func(fd uintptr) error {
		return ioctl(fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	})
}

// rawMode says whether the terminal behind the master has canonical input
// off: a program reads it key by key (an editor, a shell through kubectl).
func rawMode(ptm *os.File) (bool, error) {
	var t syscall.Termios
	err := rawControl(ptm, func(fd uintptr) error {
		return ioctl(fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	})
	return t.Lflag&syscall.ICANON == 0, err
}

// foregroundPgrp is tcgetpgrp of the terminal behind the master.
func foregroundPgrp(ptm *os.File) (int, error) {
	var pgrp int32
	err := rawControl(ptm, func(fd uintptr) error {
		return ioctl(fd, syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	})
	return int(pgrp), err
}

// pollable turns the pty master that creack/pty returns (left in blocking
// mode by its ioctls) into a non-blocking descriptor in Go's poller, so that
// Close interrupts a pending Read and writes honour deadlines.
func pollable(f *os.File) (*os.File, error) {
	fd, err := dupCloexec(f)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

func dupCloexec(f *os.File) (int, error) {
	var nfd int
	err := rawControl(f, func(fd uintptr) error {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			return e
		}
		nfd = int(r)
		return nil
	})
	return nfd, err
}

// ttyHolders lists the processes with a descriptor open on the terminal
// tty (other than this one).
func ttyHolders(tty string) []int {
	if tty == "" {
		return nil
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	self := os.Getpid()
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		fdDir := "/proc/" + n + "/fd"
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(fdDir + "/" + fd.Name()); err == nil && target == tty {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// ttyDevice is the device number of a terminal path, as /proc/PID/stat's
// tty_nr gives it; 0 if unknown.
func ttyDevice(path string) int {
	var st syscall.Stat_t
	if path == "" || syscall.Stat(path, &st) != nil {
		return 0
	}
	return int(st.Rdev)
}
