package match

import (
	"regexp"
	"strings"
)

// errorLine matches a line in which a program says it failed, in the
// wordings labs meet: kubectl's and cobra's prefixes, curl's numbered
// errors, and the "PROGRAM: [THING: ]REASON" form of bash and coreutils
// (cat: x: No such file or directory, bash: y: command not found).
var errorLine = regexp.MustCompile(`^(Error from server|error: |Error: |curl: \([0-9]+\) |` +
	`[^\s:]+: (.*: )?(No such file or directory|command not found|Permission denied|Is a directory|Connection refused|Not a directory)$)`)

// ErrorLine returns the first line of text in which a program reports an
// error, or "". Indented lines are quotes inside other output (describe,
// logs) and do not count.
func ErrorLine(text string) string {
	for _, l := range splitLines(text) {
		l = strings.TrimRight(l, " \t\r")
		if errorLine.MatchString(l) {
			return l
		}
	}
	return ""
}

// ExpectsError reports whether expected output shows an error, so that the
// command is expected to exit non-zero (see ErrorLine for the wordings).
func ExpectsError(expected string) bool { return ErrorLine(expected) != "" }

// failWords are what a comment says when it announces a failure; negated
// says it does not.
var (
	failWords = regexp.MustCompile(`(?i)\b(error|errors|fails?|failed|failure)\b`)
	negated   = regexp.MustCompile(`(?i)\b(no|not|without|never|shouldn't|won't|doesn't|don't)\b(\s+\w+){0,3}\s+(an?\s+)?(error|errors|fail|fails|failure)\b`)
)

// AnnouncesError returns the comment of a command block that says the
// command fails ("# This gives an error (AlreadyExists)"), or "". Comments
// inside heredocs are the file's, not the slide's, and are not read.
func AnnouncesError(block string) string {
	for _, l := range strings.Split(block, "\n") {
		code, comment := splitComment(l)
		if comment != "" && failWords.MatchString(comment) && !negated.MatchString(comment) {
			return strings.TrimSpace(comment)
		}
		if strings.Contains(code, "<<") {
			return ""
		}
	}
	return ""
}

// splitComment splits a shell line at a # that starts a comment: at the
// start of the line or after a blank, outside quotes.
func splitComment(line string) (code, comment string) {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i], line[i:]
		}
	}
	return line, ""
}
