package builtin

import (
	"flag"
	"io"

	"k8s.io/klog/v2"
)

// klogTo sends what klog prints in this process to w, each line once.
// client-go (the node agents' event broadcasters, the informers) logs
// through klog, which prints on stderr by default; and even with its
// output elsewhere, klog also copies every error to stderr (its
// -stderrthreshold, ERROR by default), so that the event errors of a
// cluster going down (a forced exit, a second Ctrl-C) would land on the
// user's terminal. Only a fatal error, which ends labrun, still shows there.
func klogTo(w io.Writer) {
	var flags flag.FlagSet
	klog.InitFlags(&flags)
	// Only klog's flags set the threshold; it is stored atomically, so this
	// is safe while others log. The name and value are klog's own.
	_ = flags.Set("stderrthreshold", "FATAL")
	klog.LogToStderr(false)
	// klog writes a line to the output of its severity and of each lower
	// one: only INFO's reaches w, so that an error is there once, not thrice.
	klog.SetOutputBySeverity("INFO", w)
	for _, s := range []string{"WARNING", "ERROR", "FATAL"} {
		klog.SetOutputBySeverity(s, io.Discard)
	}
}
