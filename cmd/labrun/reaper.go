package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// labrun makes itself a child subreaper (Linux): a process that a lab starts
// and detaches (`setsid cmd &`, a daemon) is reparented to labrun instead of
// init, so the final sweep below still finds it and ends it.
func becomeSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}

// sweep kills every process still descending from labrun and reaps the
// direct children among them. It runs after the panes and the cluster were
// closed, so anything it finds escaped them; it returns what it ended.
func sweep() []string {
	self := os.Getpid()
	var ended []string
	for round := 0; round < 5; round++ {
		procs := descendantsOf(self)
		if len(procs) == 0 {
			break
		}
		for _, p := range procs {
			if syscall.Kill(p.pid, syscall.SIGKILL) == nil && round == 0 {
				ended = append(ended, fmt.Sprintf("%d %s", p.pid, p.cmd))
			}
		}
		for _, p := range procs {
			if p.ppid == self {
				var ws syscall.WaitStatus
				syscall.Wait4(p.pid, &ws, 0, nil)
			}
		}
	}
	return ended
}

type proc struct {
	pid, ppid int
	cmd       string
}

// descendantsOf lists the living descendants of pid from /proc.
func descendantsOf(pid int) []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	byParent := map[int][]proc{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 > len(s) {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		byParent[pp] = append(byParent[pp], proc{p, pp, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range byParent[p] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}
