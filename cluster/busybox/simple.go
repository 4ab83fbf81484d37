package busybox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runEcho follows busybox echo: leading -n/-e/-E arguments are options only
// if every letter is one of them; -e interprets backslash escapes.
func runEcho(_ context.Context, e *env, args []string) int {
	newline, escapes := true, false
	for len(args) > 0 {
		a := args[0]
		if len(a) < 2 || a[0] != '-' || strings.Trim(a[1:], "neE") != "" {
			break
		}
		for _, c := range a[1:] {
			switch c {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	var buf bytes.Buffer
	for i, a := range args {
		if i > 0 {
			buf.WriteByte(' ')
		}
		if !escapes {
			buf.WriteString(a)
			continue
		}
		if stop := writeEscaped(&buf, a); stop {
			newline = false
			break
		}
	}
	if newline {
		buf.WriteByte('\n')
	}
	if _, err := e.out.Write(buf.Bytes()); err != nil {
		e.errorf("write error: %s", errnoText(err))
		return 1
	}
	return 0
}

// writeEscaped appends s with echo -e escapes processed; it reports true at
// "\c", which ends all output.
func writeEscaped(buf *bytes.Buffer, s string) (stop bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			buf.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "c") {
			return true
		}
		// "\0NNN": the leading 0 is skipped when an octal digit follows.
		if len(rest) >= 2 && rest[0] == '0' && rest[1] >= '0' && rest[1] <= '7' {
			rest = rest[1:]
			i++
		}
		c, n := escapeSequence(rest)
		buf.WriteByte(c)
		i += n
	}
	return false
}

// escapeSequence decodes the text after a backslash as busybox's
// bb_process_escape_sequence does, returning the byte and how many input
// bytes it consumed.
func escapeSequence(s string) (byte, int) {
	base, i, digits, n := 8, 0, 0, 0
	if strings.HasPrefix(s, "x") {
		base, i, digits = 16, 1, 1
	}
	for digits < 3 && i < len(s) {
		d := digitValue(s[i])
		if d >= base {
			break
		}
		if n*base+d > 255 {
			break
		}
		n = n*base + d
		i++
		digits++
	}
	if base == 16 && digits == 1 {
		return '\\', 0 // "\x" with no hex digit: a literal backslash
	}
	if digits > 0 {
		return byte(n), i
	}
	if len(s) == 0 {
		return '\\', 0
	}
	switch s[0] {
	case 'a':
		return '\a', 1
	case 'b':
		return '\b', 1
	case 'e':
		return 27, 1
	case 'f':
		return '\f', 1
	case 'n':
		return '\n', 1
	case 'r':
		return '\r', 1
	case 't':
		return '\t', 1
	case 'v':
		return '\v', 1
	case '\\':
		return '\\', 1
	}
	return '\\', 0
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

const seqUsage = "[-w] [-s SEP] [FIRST [INC]] LAST"
const seqHelp = "Print numbers from FIRST to LAST, in steps of INC.\nFIRST, INC default to 1.\n\n\t-w\tPad to last with leading zeros\n\t-s SEP\tString separator"

// runSeq follows busybox seq, including its -w width and fraction rules.
func runSeq(ctx context.Context, e *env, args []string) int {
	// A negative number ends options (busybox would reject it as an option).
	cut := len(args)
	for i, a := range args {
		if len(a) >= 2 && a[0] == '-' && (a[1] >= '0' && a[1] <= '9' || a[1] == '.') {
			cut = i
			break
		}
	}
	opts, operands, err := getopt(args[:cut], "ws:", false)
	if err != nil {
		e.errorf("%v", err)
		return e.usage(seqUsage, seqHelp)
	}
	operands = append(operands, args[cut:]...)
	pad, sep := false, "\n"
	for _, o := range opts {
		switch o.flag {
		case 'w':
			pad = true
		case 's':
			sep = o.arg
		}
	}
	if len(operands) < 1 || len(operands) > 3 {
		return e.usage(seqUsage, seqHelp)
	}
	nums := make([]float64, len(operands))
	for i, s := range operands {
		v, err := strconv.ParseFloat(strings.TrimLeft(s, " \t"), 64)
		if err != nil {
			return e.usage(seqUsage, seqHelp)
		}
		nums[i] = v
	}
	first, inc, last := 1.0, 1.0, nums[len(nums)-1]
	switch len(nums) {
	case 3:
		first, inc = nums[0], nums[1]
	case 2:
		first = nums[0]
	}
	// Width is the widest integer part; fraction digits come from all but
	// the last argument (coreutils-6.10 compatible, as busybox says).
	width, frac := 0, 0
	for i, s := range operands {
		dot := strings.IndexByte(s, '.')
		if dot < 0 {
			dot = len(s)
		}
		width = max(width, dot)
		if i < len(operands)-1 {
			frac = max(frac, len(s)-dot)
		}
	}
	if frac > 0 {
		frac--
		if frac > 0 {
			width += frac + 1
		}
	}
	if !pad {
		width = 0
	}
	w := bufio.NewWriter(e.out)
	n := 0
	for v := first; inc >= 0 && v <= last || inc < 0 && v >= last; v = first + float64(n)*inc {
		select {
		case <-ctx.Done():
			w.Flush()
			return cancelled(ctx)
		default:
		}
		if n > 0 {
			w.WriteString(sep)
		}
		fmt.Fprintf(w, "%0*.*f", width, frac, v)
		n++
		if w.Buffered() > 4096 {
			if err := w.Flush(); err != nil {
				return 1
			}
		}
	}
	if n > 0 {
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	return 0
}

// runHostname prints the container's hostname: $HOSTNAME (the pod name the
// kubelet sets), else the host's.
func runHostname(ctx context.Context, e *env, args []string) int {
	opts, operands, err := getopt(args, "dfisF:v", true)
	if err != nil {
		e.errorf("%v", err)
		return e.usage("[-sidf] [HOSTNAME | -F FILE]", "Show or set hostname or DNS domain name")
	}
	name := e.getenv("HOSTNAME")
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			e.errorf("%v", err)
			return 1
		}
	}
	var flags string
	for _, o := range opts {
		flags += string(o.flag)
	}
	short, domain, _ := strings.Cut(name, ".")
	switch {
	case strings.ContainsAny(flags, "i"):
		ips, err := resolve(ctx, e, name)
		if err != nil {
			e.errorf("bad address '%s'", name)
			return 1
		}
		var parts []string
		for _, ip := range ips {
			if ip.Is4() {
				parts = append(parts, ip.String())
			}
		}
		fmt.Fprintln(e.out, strings.Join(parts, " "))
	case strings.ContainsAny(flags, "f"):
		fmt.Fprintln(e.out, name)
	case strings.ContainsAny(flags, "s"):
		fmt.Fprintln(e.out, short)
	case strings.ContainsAny(flags, "d"):
		if domain != "" {
			fmt.Fprintln(e.out, domain)
		}
	case strings.ContainsAny(flags, "F") || len(operands) > 0:
		e.errorf("sethostname: Operation not permitted")
		return 1
	default:
		fmt.Fprintln(e.out, name)
	}
	return 0
}

// runCat copies files ("-" or none: stdin) to stdout; -n numbers lines,
// -b numbers non-empty ones, -u is ignored.
func runCat(ctx context.Context, e *env, args []string) int {
	opts, files, err := getopt(args, "nbu", true)
	if err != nil {
		e.errorf("%v", err)
		return e.usage("[-nbu] [FILE]...", "Print FILEs to stdout")
	}
	number, nonEmpty := false, false
	for _, o := range opts {
		switch o.flag {
		case 'n':
			number = true
		case 'b':
			number, nonEmpty = true, true
		}
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	status, line := 0, 1
	for _, f := range files {
		var r io.Reader = e.in
		if f != "-" {
			file, err := os.Open(f)
			if err != nil {
				e.errorf("can't open '%s': %s", f, errnoText(err))
				status = 1
				continue
			}
			r = file
			defer file.Close()
		}
		done := make(chan error, 1)
		go func() {
			if number {
				done <- numberLines(e.out, r, &line, nonEmpty)
				return
			}
			_, err := io.Copy(e.out, r)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				e.errorf("%s: %s", f, errnoText(err))
				status = 1
			}
		case <-ctx.Done():
			// A read cannot be interrupted; like the real cat we just die.
			return cancelled(ctx)
		}
	}
	return status
}

func numberLines(w io.Writer, r io.Reader, line *int, nonEmpty bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		text := sc.Text()
		var err error
		if !nonEmpty || text != "" {
			_, err = fmt.Fprintf(w, "%6d\t%s\n", *line, text)
			*line++
		} else {
			_, err = fmt.Fprintf(w, "%s\n", text)
		}
		if err != nil {
			return err
		}
	}
	return sc.Err()
}

// runYes prints its arguments (default "y") until the output fails or ctx
// ends.
func runYes(ctx context.Context, e *env, args []string) int {
	text := "y"
	if len(args) > 0 {
		text = strings.Join(args, " ")
	}
	chunk := []byte(strings.Repeat(text+"\n", max(1, 4096/(len(text)+1))))
	for {
		select {
		case <-ctx.Done():
			return cancelled(ctx)
		default:
		}
		if _, err := e.out.Write(chunk); err != nil {
			return 1
		}
	}
}

// hostShell is the shell "sh" hands over to.
const hostShell = "/bin/sh"

// runSh runs the host's /bin/sh as a child with the applet's stdio; the
// testable form of what Dispatch does with exec. Cancelling ctx sends the
// shell SIGTERM.
func runSh(ctx context.Context, e *env, args []string) int {
	cmd := exec.CommandContext(ctx, hostShell, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.in, e.out, e.err
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Second // do not hang on an In that never ends
	err := cmd.Run()
	if cmd.ProcessState == nil {
		if ctx.Err() != nil {
			return cancelled(ctx)
		}
		e.errorf("can't execute '%s': %s", hostShell, errnoText(err))
		return 127
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// execSh replaces the process with the host's /bin/sh, keeping argv[0]
// (a leading "-" still means a login shell). It returns only on failure.
func execSh(args []string, stderr io.Writer) int {
	err := syscall.Exec(hostShell, args, os.Environ())
	fmt.Fprintf(stderr, "sh: can't execute '%s': %s\n", hostShell, errnoText(err))
	return 127
}
