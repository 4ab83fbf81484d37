package proc

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stat is what /proc/PID/stat says about a process's place in the job
// control hierarchy.
type Stat struct {
	Pid, PPid, Pgid, Sid int
	TTY                  int // the session's controlling terminal (tty_nr)
	State                byte
}

// Gone says whether the process has exited (a zombie or dead) while still
// listed.
func (s Stat) Gone() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat parses /proc/PID/stat; false if the process is not there.
func ReadStat(pid int) (Stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	return parseStat(pid, b)
}

// parseStat reads the fields after the command name, which may hold spaces
// and parentheses: they are counted after the last ')'.
func parseStat(pid int, b []byte) (Stat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return Stat{}, false
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 5 {
		return Stat{}, false
	}
	s := Stat{Pid: pid, State: f[0][0]}
	var err error
	for _, v := range []struct {
		dst *int
		src []byte
	}{{&s.PPid, f[1]}, {&s.Pgid, f[2]}, {&s.Sid, f[3]}, {&s.TTY, f[4]}} {
		if *v.dst, err = strconv.Atoi(string(v.src)); err != nil {
			return Stat{}, false
		}
	}
	return s, true
}

// live lists the processes that are running now (not zombies).
func live() []Stat {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var out []Stat
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if s, ok := ReadStat(pid); ok && !s.Gone() {
			out = append(out, s)
		}
	}
	return out
}

// Session lists the live processes of session sid whose controlling
// terminal is tty (a device number; 0: any). Once a pane's shell is reaped
// its pid, and so the session id, can be reused by a stranger's session
// (pids wrap fast where pid_max is small); the terminal tells them apart,
// since the pane's pty stays ours until the pane is closed.
func Session(sid, tty int) []int {
	var pids []int
	for _, s := range live() {
		if s.Sid == sid && (tty == 0 || s.TTY == tty) {
			pids = append(pids, s.Pid)
		}
	}
	return pids
}

// Process is a descendant as Descendants finds it.
type Process struct {
	Pid, PPid int
	Cmd       string // the command line, arguments separated by spaces
}

// Descendants lists the live descendants of pid, parents before children.
func Descendants(pid int) []Process {
	byParent := map[int][]int{}
	for _, s := range live() {
		byParent[s.PPid] = append(byParent[s.PPid], s.Pid)
	}
	var out []Process
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range byParent[p] {
			cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(c) + "/cmdline")
			out = append(out, Process{c, p, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
			queue = append(queue, c)
		}
	}
	return out
}

// TTYHolders lists the processes other than this one with a descriptor
// open on the terminal at path tty.
func TTYHolders(tty string) []int {
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

// TTYDevice is the device number of a terminal path, as /proc/PID/stat's
// tty_nr gives it; 0 if unknown.
func TTYDevice(path string) int {
	var st unix.Stat_t
	if path == "" || unix.Stat(path, &st) != nil {
		return 0
	}
	return int(st.Rdev)
}
