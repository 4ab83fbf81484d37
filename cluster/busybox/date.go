package busybox

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

const dateUsage = "[OPTIONS] [+FMT] [[-s] TIME]"
const dateHelp = "Display time (using +FMT), or set time\n\n\t-u\t\tWork in UTC (don't convert to local time)\n\t[-s] TIME\tSet time to TIME\n\t-d TIME\t\tDisplay TIME, not 'now'\n\t-r FILE\t\tDisplay last modification time of FILE\n\t-R\t\tOutput RFC-2822 date\n\t-I[SPEC]\tOutput ISO-8601 date"

// runDate follows busybox date: default format "%a %b %e %H:%M:%S %Z %Y",
// +FMT in strftime syntax (plus busybox's %N), -u, -d, -r, -R, -I[SPEC].
// The zone is $TZ, or UTC when unset, as in a container without tzdata.
func runDate(_ context.Context, e *env, args []string) int {
	// -I takes an optional attached argument, which getopt cannot express.
	iso := ""
	var rest []string
	for i, a := range args {
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if strings.HasPrefix(a, "-I") {
			iso = a[2:]
			if iso == "" {
				iso = "date"
			}
			continue
		}
		rest = append(rest, a)
	}
	opts, operands, err := getopt(rest, "Rs:ud:r:", true)
	if err != nil {
		e.errorf("%v", err)
		return e.usage(dateUsage, dateHelp)
	}
	var utc, rfc bool
	var dateStr, file string
	set := false
	for _, o := range opts {
		switch o.flag {
		case 'u':
			utc = true
		case 'R':
			rfc = true
		case 'd':
			dateStr = o.arg
		case 's':
			dateStr, set = o.arg, true
		case 'r':
			file = o.arg
		}
	}
	format := ""
	hasFormat := false
	if len(operands) > 0 && strings.HasPrefix(operands[0], "+") {
		format, hasFormat = operands[0][1:], true
		operands = operands[1:]
	}
	if len(operands) > 0 && dateStr == "" {
		dateStr, set = operands[0], true
		operands = operands[1:]
	}
	if len(operands) > 0 {
		return e.usage(dateUsage, dateHelp)
	}

	loc := time.UTC
	if tz := e.getenv("TZ"); tz != "" && !utc {
		if l, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
			loc = l
		}
	}
	now := time.Now()
	if file != "" {
		fi, err := os.Stat(file)
		if err != nil {
			e.errorf("can't stat '%s': %s", file, errnoText(err))
			return 1
		}
		now = fi.ModTime()
	}
	now = now.In(loc)
	if dateStr != "" {
		t, ok := parseDate(dateStr, now, loc)
		if !ok {
			e.errorf("invalid date '%s'", dateStr)
			return 1
		}
		now = t
		if set {
			e.errorf("can't set date: Operation not permitted")
		}
	}

	if !hasFormat {
		switch {
		case iso != "":
			idx := map[string]int{"date": 0, "hours": 1, "minutes": 2, "seconds": 3, "ns": 4}
			n, ok := idx[iso]
			if !ok {
				return e.usage(dateUsage, dateHelp)
			}
			format = "%Y-%m-%d" + []string{"", "T%H", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S,%N"}[n]
			if n > 0 {
				format += "%:z"
			}
		case rfc:
			format = "%a, %d %b %Y %H:%M:%S %z"
		default:
			format = "%a %b %e %H:%M:%S %Z %Y"
		}
	}
	fmt.Fprintln(e.out, strftime(format, now))
	return 0
}

// parseDate reads the TIME forms busybox documents: @seconds, hh:mm[:ss],
// [YYYY.]MM.DD-hh:mm[:ss], YYYY-MM-DD [hh:mm[:ss]].
func parseDate(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	if secs, ok := strings.CutPrefix(s, "@"); ok {
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).In(loc), true
	}
	layouts := []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006.01.02-15:04:05", "2006.01.02-15:04"}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	for _, l := range []string{"15:04:05", "15:04", "01.02-15:04:05", "01.02-15:04"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			y, mo, d := now.Date()
			if strings.Contains(l, "01.02") {
				mo, d = t.Month(), t.Day()
			}
			return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, loc), true
		}
	}
	return time.Time{}, false
}

// strftime formats t like musl's strftime (C locale), plus busybox's
// %[digits]N nanoseconds. Flags '-', '_' and '0' change numeric padding;
// unknown conversions are printed as written.
func strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		start := i
		i++
		pad := byte(0)
		if strings.IndexByte("-_0", format[i]) >= 0 && i+1 < len(format) {
			pad = format[i]
			i++
		}
		width := 0
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			width = width*10 + int(format[i]-'0')
			i++
		}
		if i >= len(format) {
			b.WriteString(format[start:])
			break
		}
		colon := false
		if format[i] == ':' && i+1 < len(format) && format[i+1] == 'z' {
			colon = true
			i++
		}
		num := func(v, w int, def byte) {
			p := def
			if pad != 0 {
				p = pad
			}
			if width > 0 {
				w = width
			}
			s := strconv.Itoa(v)
			switch p {
			case '-':
			case '_':
				s = strings.Repeat(" ", max(0, w-len(s))) + s
			default:
				s = strings.Repeat("0", max(0, w-len(s))) + s
			}
			b.WriteString(s)
		}
		year, isoWeek := t.ISOWeek()
		switch format[i] {
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'c':
			b.WriteString(strftime("%a %b %e %H:%M:%S %Y", t))
		case 'C':
			num(t.Year()/100, 2, '0')
		case 'd':
			num(t.Day(), 2, '0')
		case 'D', 'x':
			b.WriteString(strftime("%m/%d/%y", t))
		case 'e':
			num(t.Day(), 2, '_')
		case 'F':
			b.WriteString(strftime("%Y-%m-%d", t))
		case 'g':
			num(year%100, 2, '0')
		case 'G':
			num(year, 4, '0')
		case 'H':
			num(t.Hour(), 2, '0')
		case 'I':
			num((t.Hour()+11)%12+1, 2, '0')
		case 'j':
			num(t.YearDay(), 3, '0')
		case 'k':
			num(t.Hour(), 2, '_')
		case 'l':
			num((t.Hour()+11)%12+1, 2, '_')
		case 'm':
			num(int(t.Month()), 2, '0')
		case 'M':
			num(t.Minute(), 2, '0')
		case 'n':
			b.WriteByte('\n')
		case 'N':
			digits := width
			if digits == 0 || digits > 9 {
				digits = 9
			}
			ns := fmt.Sprintf("%09d", t.Nanosecond())
			b.WriteString(ns[:digits])
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'P':
			b.WriteString(strings.ToLower(t.Format("PM")))
		case 'r':
			b.WriteString(strftime("%I:%M:%S %p", t))
		case 'R':
			b.WriteString(strftime("%H:%M", t))
		case 's':
			num(int(t.Unix()), 1, '0')
		case 'S':
			num(t.Second(), 2, '0')
		case 't':
			b.WriteByte('\t')
		case 'T', 'X':
			b.WriteString(strftime("%H:%M:%S", t))
		case 'u':
			num((int(t.Weekday())+6)%7+1, 1, '0')
		case 'U':
			num((t.YearDay()+6-int(t.Weekday()))/7, 2, '0')
		case 'V':
			num(isoWeek, 2, '0')
		case 'w':
			num(int(t.Weekday()), 1, '0')
		case 'W':
			num((t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0')
		case 'y':
			num(t.Year()%100, 2, '0')
		case 'Y':
			num(t.Year(), 1, '0')
		case 'z':
			if colon {
				b.WriteString(t.Format("-07:00"))
			} else {
				b.WriteString(t.Format("-0700"))
			}
		case 'Z':
			b.WriteString(t.Format("MST"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteString(format[start : i+1])
		}
	}
	return b.String()
}
