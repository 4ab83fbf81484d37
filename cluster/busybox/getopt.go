package busybox

import (
	"fmt"
	"strings"
)

// option is one parsed command-line option.
type option struct {
	flag byte
	arg  string
}

// getopt parses args the way busybox's getopt32 does on musl: spec lists
// flag letters, a trailing ':' meaning the flag takes an argument
// ("c:" accepts "-c3" and "-c 3"); "--" ends options. With permute, options
// may follow operands (GNU getopt_long behaviour); without, the first
// operand ends options. The error text is musl's.
func getopt(args []string, spec string, permute bool) ([]option, []string, error) {
	var opts []option
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if !permute {
				operands = append(operands, args[i:]...)
				break
			}
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(spec, c)
			if k < 0 || c == ':' {
				return nil, nil, fmt.Errorf("unrecognized option: %c", c)
			}
			if k+1 < len(spec) && spec[k+1] == ':' {
				if j+1 < len(a) {
					opts = append(opts, option{c, a[j+1:]})
				} else if i+1 < len(args) {
					i++
					opts = append(opts, option{c, args[i]})
				} else {
					return nil, nil, fmt.Errorf("option requires an argument: %c", c)
				}
				break
			}
			opts = append(opts, option{flag: c})
		}
	}
	return opts, operands, nil
}
