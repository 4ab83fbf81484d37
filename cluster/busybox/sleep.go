package busybox

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// runSleep sleeps for the sum of its arguments (each may be fractional and
// carry an s/m/h/d suffix); "inf..." sleeps until signalled.
func runSleep(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return e.usage("[N]...", "Pause for a time equal to the total of the args given, where each arg can\nhave an optional suffix of (s)econds, (m)inutes, (h)ours, or (d)ays")
	}
	var total float64
	if len(args[0]) >= 3 && strings.EqualFold(args[0][:3], "inf") {
		total = math.Inf(1)
	} else {
		for _, a := range args {
			d, err := parseDuration(a)
			if err != nil {
				e.errorf("%v", err)
				return 1
			}
			total += d
		}
	}
	if math.IsInf(total, 1) || total > float64(math.MaxInt64/int64(time.Second)) {
		<-ctx.Done()
		return cancelled(ctx)
	}
	t := time.NewTimer(time.Duration(total * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return 0
	case <-ctx.Done():
		return cancelled(ctx)
	}
}

// errInvalidNumber is busybox's xatoul failure.
var errInvalidNumber = errors.New("invalid number")

// parseDuration reads busybox's duration syntax (parse_duration_str):
// digits and dots, then an optional s, m, h or d suffix; in seconds.
func parseDuration(s string) (float64, error) {
	n := len(s) - len(strings.TrimLeft(s, "0123456789."))
	num, suffix := s[:n], s[n:]
	mult := 1.0
	switch suffix {
	case "", "s":
	case "m":
		mult = 60
	case "h":
		mult = 3600
	case "d":
		mult = 86400
	default:
		return 0, &numberError{s}
	}
	if num == "" || (!strings.Contains(num, ".") && strings.Trim(num, "0123456789") != "") {
		return 0, &numberError{s}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, &numberError{s}
	}
	return v * mult, nil
}

// numberError is "invalid number 'x'", as busybox prints it.
type numberError struct{ text string }

func (n *numberError) Error() string { return "invalid number '" + n.text + "'" }
func (n *numberError) Unwrap() error { return errInvalidNumber }
