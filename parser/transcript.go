package parser

import (
	"regexp"
	"strings"
)

// A lab's ```bash block is what a person types. Some blocks are transcripts
// instead, copied from a terminal: each command carries its prompt
// (`$ kubectl get pods`, `user@node1:~$ ls`) and the command's output sits
// between them. A person types only the commands; so does the replay.

// promptRE matches a prompt a person would not type: `$ `, `user@host:dir$ `,
// `user@host ~/$ `, `[user@host dir]# `. A bare `# ` is a bash comment,
// not a root prompt, and stays.
var promptRE = regexp.MustCompile(`^(\$|\[?[A-Za-z_][\w.-]*@[\w.-]+(:[^\s$#]*|\s+[^\s$#]*)?\]?\s?[$#])( |$)`)

// outputRE matches lines kubectl prints that nobody types: a table header
// (`NAME   READY   STATUS`) or a verdict (`pod/web created`).
var outputRE = regexp.MustCompile(`^([A-Z][A-Z-]+(\([A-Z]+\))?( {2,}[A-Z][A-Z-]*(\([A-Z]+\))?)+\s*` +
	`|[a-z][\w.-]*/[\w.:-]+ (created|configured|unchanged|deleted|exposed|scaled|labeled|annotated|patched|edited|autoscaled|restarted|rolled back|serverside-applied))$`)

// heredocRE finds the delimiter of a here-document started on a line.
var heredocRE = regexp.MustCompile(`<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?`)

// transcriptLine is a line of a block the replay leaves out, and why.
type transcriptLine struct {
	index  int    // 0-based within the block
	prompt string // the prompt stripped, or "" for an output line
}

// stripTranscript returns the lines a person would type from a bash block:
// prompts stripped and output dropped when any line carries a prompt, and
// kubectl-shaped output lines dropped in any block. Lines inside a
// here-document or continuing a command (after `\`, `|`, `&&`, `||`) are
// always kept as typed. It also says which lines it changed.
func stripTranscript(lines []string) ([]string, []transcriptLine) {
	prompted := false
	heredoc := ""
	for _, l := range lines {
		if heredoc != "" {
			if strings.TrimSpace(l) == heredoc {
				heredoc = ""
			}
			continue
		}
		if m := promptRE.FindString(l); m != "" {
			prompted = true
			break
		}
		if m := heredocRE.FindStringSubmatch(l); m != nil {
			heredoc = m[1]
		}
	}
	var out []string
	var changed []transcriptLine
	heredoc = ""
	continued := false
	for i, l := range lines {
		switch {
		case heredoc != "":
			if strings.TrimSpace(l) == heredoc {
				heredoc = ""
			}
			out = append(out, l)
			continue
		case continued:
			out = append(out, l)
		case prompted:
			m := promptRE.FindString(l)
			if m == "" {
				if strings.TrimSpace(l) != "" {
					changed = append(changed, transcriptLine{index: i})
				}
				continue
			}
			l = l[len(m):]
			changed = append(changed, transcriptLine{index: i, prompt: strings.TrimSpace(m)})
			out = append(out, l)
		case outputRE.MatchString(l):
			changed = append(changed, transcriptLine{index: i})
			continue
		default:
			out = append(out, l)
		}
		t := strings.TrimRight(l, " \t")
		continued = strings.HasSuffix(t, "\\") || strings.HasSuffix(t, "|") ||
			strings.HasSuffix(t, "&&") || strings.HasSuffix(t, "||")
		if m := heredocRE.FindStringSubmatch(l); m != nil {
			heredoc = m[1]
		}
	}
	return out, changed
}
