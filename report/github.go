package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/labrun/labrun/internal/text"
)

// WriteGitHub writes GitHub Actions workflow commands, so each problem shows
// on its slide's line in a pull request: ::error for a failed, errored or
// interrupted step, ::warning for a step not verified and for the labs an
// interrupted run never reached, ::notice for a step left to the person.
func WriteGitHub(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("writing GitHub annotations: no run")
	}
	var b strings.Builder
	for _, st := range r.Steps() {
		switch st.Status {
		case Failed, Error, Interrupted, NotVerified, Manual:
			b.WriteString(GitHubAnnotation(*st))
		}
	}
	if notRun := notRunLabs(r.labs()); notRun > 0 {
		b.WriteString(GitHubCommand("warning", "", 0, 0, "labrun: interrupted",
			text.Plural(notRun, "lab")+" not run: the run was interrupted first"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing GitHub annotations: %w", err)
	}
	return nil
}

// GitHubAnnotation is the workflow command for one step, newline included.
func GitHubAnnotation(st StepResult) string {
	msg := StepLabel(st) + ": " + st.Reason
	if st.Cause != "" {
		msg += " (" + st.Cause + ")"
	}
	if st.Hint != "" {
		msg += "\nhint: " + st.Hint
	}
	if st.Diff != "" {
		msg += fmt.Sprintf("\nexpected output at %s (-) against the actual output (+):\n%s",
			loc(orDefault(st.ExpectedFile, st.File), st.ExpectedLine), strings.TrimRight(st.Diff, "\n"))
	}
	level, verb := "error", "failed"
	switch st.Status {
	case Error:
		verb = "could not run"
	case Interrupted:
		verb = "interrupted"
	case NotVerified:
		level, verb = "warning", "not verified"
	case Manual:
		level, verb = "notice", "left to the person"
	}
	return GitHubCommand(level, st.File, st.Line, 0, "labrun: "+orDefault(st.Kind, "step")+" "+verb, msg)
}

// GitHubCommand is one ::error, ::warning or ::notice workflow command,
// newline included, at file:line:col when known (0 for unknown), with
// GitHub's escaping; text from panes is stripped of escape sequences.
func GitHubCommand(level, file string, line, col int, title, msg string) string {
	var props []string
	if file != "" {
		props = append(props, "file="+ghProperty(file))
		if line > 0 {
			props = append(props, fmt.Sprintf("line=%d", line))
		}
		if col > 0 {
			props = append(props, fmt.Sprintf("col=%d", col))
		}
	}
	if title != "" {
		props = append(props, "title="+ghProperty(clean(title)))
	}
	return "::" + level + " " + strings.Join(props, ",") + "::" + ghData(clean(msg)) + "\n"
}

// GitHub's escaping rules for workflow command data and properties (as in
// @actions/core's command.ts): data escapes %, CR and LF; properties also
// escape the ':' and ',' that delimit them.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// WriteGitHubSummary writes the run as the markdown GitHub shows on a
// workflow run's page (append it to $GITHUB_STEP_SUMMARY): the verdict and
// counts, a table of chapters, and each failed step with its reason and diff.
func WriteGitHubSummary(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("writing the GitHub summary: no run")
	}
	labs := r.labs()
	var b strings.Builder
	fmt.Fprintf(&b, "## %s labrun: %s\n\n", emoji(r.Status), statusText(r.Status))
	fmt.Fprintf(&b, "%s, %s, %s in %s", text.Plural(len(r.Chapters), "chapter"), labCount(labs), StepCounts(labs), FormatDuration(r.Duration))
	if len(r.Deck) > 0 {
		fmt.Fprintf(&b, " — %s", mdCode(strings.Join(r.Deck, " ")))
	}
	b.WriteString(", against the " + mdCode(orDefault(r.Cluster, "?")) + " cluster.\n\n")
	if len(r.Chapters) > 0 {
		b.WriteString("| | chapter | labs | steps | time |\n|---|---|---|---|---|\n")
		for _, ch := range r.Chapters {
			title := mdCode(ch.File)
			if ch.Title != "" {
				title = mdCell(ch.Title) + " " + title
			}
			steps := StepCounts(ch.Labs).String()
			if neverStarted(ch) && len(ch.Labs) > 0 {
				steps = "not run"
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", emoji(ch.Status), title, len(ch.Labs),
				mdCell(steps), FormatDuration(ch.Duration))
		}
		b.WriteString("\n")
	}
	first := true
	for _, st := range r.Steps() {
		if !st.Status.Bad() {
			continue
		}
		if first {
			b.WriteString("### Failed steps\n\n")
			first = false
		}
		fmt.Fprintf(&b, "- %s %s %s: %s\n", emoji(st.Status), mdCode(loc(st.File, st.Line)), mdCode(StepLabel(*st)), mdCell(text.FirstLine(clean(st.Reason))))
		if st.Diff != "" {
			fmt.Fprintf(&b, "\n  <details><summary>expected output at %s (-) against the actual output (+)</summary>\n\n",
				loc(orDefault(st.ExpectedFile, st.File), st.ExpectedLine))
			b.WriteString(fence("diff", clean(st.Diff), "  "))
			b.WriteString("\n  </details>\n\n")
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "> note: %s\n", mdCell(clean(n)))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the GitHub summary: %w", err)
	}
	return nil
}

func emoji(s Status) string {
	switch s {
	case Passed:
		return "✅"
	case Failed, Error:
		return "❌"
	case Interrupted:
		return "⏹️"
	case Manual:
		return "✋"
	default:
		return "⚠️"
	}
}

func statusText(s Status) string {
	switch s {
	case Passed:
		return "passed"
	case Interrupted:
		return "interrupted"
	case Skipped:
		return "nothing to run"
	}
	return "failed"
}

// mdCode is s as an inline code span, with a fence longer than any run of
// backticks inside it.
func mdCode(s string) string {
	s = strings.ReplaceAll(clean(s), "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdCell is text safe in a table cell or a list item: no newline, no pipe,
// no HTML.
func mdCell(s string) string {
	return strings.NewReplacer("\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// fence is a fenced code block, indented, with a fence longer than any run
// of backticks in s.
func fence(lang, s, indent string) string {
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	body := strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
	return indent + f + lang + "\n" + indent + body + "\n" + indent + f + "\n"
}
