package fake

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The image catalogue: what a container does when its pod spec names no
// command. Images are not pulled; a container is the command of its spec
// run as a local process, with busybox applets ahead of the host's PATH.
//
//	image (any tag)            no command, no args           args only
//	alpine, busybox            exits at once with 0 (sh      args are the command
//	                           without a terminal)
//	jpetazzo/clock             prints the date every second  args are the command
//	anything else              idles until deleted, after    args are the command
//	                           logging one line saying it    (as for an image with
//	                           is simulated                  no entrypoint)
//
// A command (spec.command) always runs as given, followed by spec.args.

// builtinFunc is a container behaviour run in-process; it returns the exit
// code, and ends early with 128+signal when ctx is cancelled.
type builtinFunc func(ctx context.Context, out io.Writer) int

// imageName strips registry, tag and digest: "docker.io/library/alpine:3"
// → "alpine", "jpetazzo/clock:latest" → "jpetazzo/clock".
func imageName(img string) string {
	if i := strings.IndexByte(img, '@'); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		img = img[:i]
	}
	if first, rest, ok := strings.Cut(img, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		img = rest
	}
	return strings.TrimPrefix(img, "library/")
}

// containerArgv returns the argv to run, or a built-in behaviour.
func (s *Server) containerArgv(c corev1.Container) ([]string, builtinFunc) {
	if len(c.Command) > 0 {
		return append(append([]string(nil), c.Command...), c.Args...), nil
	}
	if len(c.Args) > 0 {
		return append([]string(nil), c.Args...), nil
	}
	switch imageName(c.Image) {
	case "alpine", "busybox":
		return nil, func(context.Context, io.Writer) int { return 0 }
	case "jpetazzo/clock":
		return nil, clock
	}
	img := c.Image
	return nil, func(ctx context.Context, out io.Writer) int {
		fmt.Fprintf(out, "labrun: image %q is simulated: this container has no command to run and idles until it is deleted\n", img)
		<-ctx.Done()
		return exitCodeOf(ctx)
	}
}

// clock prints the date every second, as jpetazzo/clock does.
func clock(ctx context.Context, out io.Writer) int {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		fmt.Fprintln(out, time.Now().UTC().Format("Mon Jan _2 15:04:05 UTC 2006"))
		select {
		case <-t.C:
		case <-ctx.Done():
			return exitCodeOf(ctx)
		}
	}
}

type sigCause struct{ sig syscall.Signal }

func (c sigCause) Error() string { return c.sig.String() }

func exitCodeOf(ctx context.Context) int {
	if c, ok := context.Cause(ctx).(sigCause); ok {
		return 128 + int(c.sig)
	}
	return 128 + int(syscall.SIGTERM)
}

// builtinInstance runs a builtinFunc in a goroutine; any signal ends it.
type builtinInstance struct {
	cancel context.CancelCauseFunc
	ch     chan struct{}
	mu     sync.Mutex
	code   int
}

func startBuiltin(f builtinFunc, out *logBuf) *builtinInstance {
	ctx, cancel := context.WithCancelCause(context.Background())
	b := &builtinInstance{cancel: cancel, ch: make(chan struct{})}
	go func() {
		code := f(ctx, out)
		b.mu.Lock()
		b.code = code
		b.mu.Unlock()
		cancel(nil)
		close(b.ch)
	}()
	return b
}

func (b *builtinInstance) done() <-chan struct{} { return b.ch }
func (b *builtinInstance) result() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.code > 128 {
		return b.code, b.code - 128
	}
	return b.code, 0
}
func (b *builtinInstance) signal(sig syscall.Signal) { b.cancel(sigCause{sig}) }
