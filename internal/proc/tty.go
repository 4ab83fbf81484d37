package proc

import (
	"os"

	"golang.org/x/sys/unix"
)

// control runs fn on the descriptor of a pollable file without switching it
// to blocking mode (which os.File.Fd would do).
func control(f *os.File, fn func(fd int) error) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// SetWinsize sets the terminal size; the kernel then sends SIGWINCH to the
// terminal's foreground process group, as a terminal window's resize does.
func SetWinsize(ptm *os.File, cols, rows int) error {
	return control(ptm, func(fd int) error {
		return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)})
	})
}

// RawMode says whether the terminal behind the master has canonical input
// off: a program reads it key by key (an editor, a shell through kubectl).
func RawMode(ptm *os.File) (bool, error) {
	var t *unix.Termios
	err := control(ptm, func(fd int) (err error) {
		t, err = unix.IoctlGetTermios(fd, unix.TCGETS)
		return err
	})
	if err != nil {
		return false, err
	}
	return t.Lflag&unix.ICANON == 0, nil
}

// ForegroundPgrp is tcgetpgrp of the terminal behind the master.
func ForegroundPgrp(ptm *os.File) (int, error) {
	var pgrp int
	err := control(ptm, func(fd int) (err error) {
		pgrp, err = unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		return err
	})
	return pgrp, err
}

// Pollable turns the pty master that creack/pty returns (left in blocking
// mode by its ioctls) into a non-blocking descriptor in Go's poller, so that
// Close interrupts a pending Read and writes honour deadlines. f stays open.
func Pollable(f *os.File) (*os.File, error) {
	var nfd int
	err := control(f, func(fd int) (err error) {
		nfd, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, err
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}
