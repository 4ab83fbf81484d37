package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML in the Jenkins/Ant dialect that Jenkins, GitLab, Azure and the
// GitHub test-report actions read (testdata/junit.xsd pins it): one test
// suite per chapter, one test case per lab, since a lab is what a slide asks
// attendees to do and what a reader wants to see red or green.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	File      string      `xml:"file,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// Long texts go in CDATA so that the file stays readable (chardata would
// turn every newline into &#xA;); xmlText makes them safe for it.
type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

// WriteJUnit writes the run as JUnit XML: a suite per chapter, a case per
// lab. A lab whose steps failed is a <failure>; one that labrun could not
// try (only error steps) is an <error>.
func WriteJUnit(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("writing the JUnit report: no run")
	}
	all := junitSuites{Name: "labrun " + strings.Join(r.Deck, " "), Time: seconds(r.Duration.Seconds())}
	stamp := ""
	if !r.Started.IsZero() {
		// Jenkins' schema wants local-less ISO 8601 without a zone: use UTC.
		stamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, ch := range r.Chapters {
		s := junitSuite{Name: ch.File, File: ch.File, Time: seconds(ch.Duration.Seconds()), Timestamp: stamp}
		for _, lab := range ch.Labs {
			c := junitCase{
				Name:      labName(lab),
				Classname: strings.TrimSuffix(ch.File, ".md"),
				File:      lab.File, Line: lab.Line,
				Time: seconds(lab.Duration.Seconds()),
			}
			var out strings.Builder
			for _, st := range lab.Steps {
				fmt.Fprintf(&out, "%-7s %s  %s%s  %s\n", st.Status, loc(st.File, st.Line), paneTag(st.Pane), StepLabel(st), FormatDuration(st.Duration))
				if st.Reason != "" && st.Status != Passed {
					fmt.Fprintf(&out, "        %s\n", st.Reason)
				}
			}
			if out.Len() > 0 {
				c.SystemOut = &junitText{xmlText(out.String())}
			}
			switch f, e := firstFailure(lab); {
			case f != nil:
				s.Failures++
				c.Failure = failureMessage(*f)
			case e != nil:
				s.Errors++
				c.Error = failureMessage(*e)
			case lab.Status == Failed:
				s.Failures++
				c.Failure = &junitMessage{Message: "lab failed"}
			case lab.Status == Error:
				s.Errors++
				c.Error = &junitMessage{Message: "lab could not run"}
			case lab.Status == Skipped:
				s.Skipped++
				c.Skipped = &junitMessage{Message: skipReason(lab)}
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	return nil
}

// labName names a test case so that it reads well in a CI's list and stays
// unique within its chapter (two labs can share a slide title).
func labName(lab LabResult) string {
	if lab.SlideTitle == "" {
		return fmt.Sprintf("slide %d (line %d)", lab.Slide, lab.Line)
	}
	return fmt.Sprintf("slide %d: %s (line %d)", lab.Slide, lab.SlideTitle, lab.Line)
}

// firstFailure finds the lab's first failed step and its first errored one.
func firstFailure(lab LabResult) (failed, errored *StepResult) {
	for i := range lab.Steps {
		switch lab.Steps[i].Status {
		case Failed:
			if failed == nil {
				failed = &lab.Steps[i]
			}
		case Error:
			if errored == nil {
				errored = &lab.Steps[i]
			}
		}
	}
	return failed, errored
}

func skipReason(lab LabResult) string {
	for _, st := range lab.Steps {
		if st.Status == Skipped && st.Reason != "" {
			return st.Reason
		}
	}
	return "no step to run"
}

// failureMessage tells a CI reader what a person would need: where, what,
// why, the diff and the screen.
func failureMessage(st StepResult) *junitMessage {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n%s\n", loc(st.File, st.Line), StepLabel(st), st.Reason)
	if st.Diff != "" {
		fmt.Fprintf(&b, "\nexpected output at %s (-) against the actual output (+):\n%s\n",
			loc(orDefault(st.ExpectedFile, st.File), st.ExpectedLine), strings.TrimRight(st.Diff, "\n"))
	}
	if st.Screen != "" {
		fmt.Fprintf(&b, "\nscreen of pane %d:\n%s\n", st.Pane, trimScreen(st.Screen))
	}
	return &junitMessage{Message: fmt.Sprintf("%s: %s", loc(st.File, st.Line), st.Reason), Type: st.Kind, Text: xmlText(b.String())}
}

// xmlText keeps only what XML 1.0 allows (escape sequences and control
// characters from a pane would make the whole report unreadable).
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, clean(s))
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// WriteGitHub writes GitHub Actions workflow commands: one ::error
// annotation per failed or errored step, at the step's file and line, so the
// failure shows on the slide's line in a pull request.
func WriteGitHub(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("writing GitHub annotations: no run")
	}
	for _, ch := range r.Chapters {
		for _, lab := range ch.Labs {
			for _, st := range lab.Steps {
				if st.Status != Failed && st.Status != Error {
					continue
				}
				if _, err := io.WriteString(w, GitHubAnnotation(st)); err != nil {
					return fmt.Errorf("writing GitHub annotations: %w", err)
				}
			}
		}
	}
	return nil
}

// GitHubAnnotation is the ::error workflow command for one step, newline
// included, with GitHub's escaping of properties and data.
func GitHubAnnotation(st StepResult) string {
	msg := clean(StepLabel(st) + ": " + st.Reason)
	if st.Diff != "" {
		msg += fmt.Sprintf("\nexpected output at %s (-) against the actual output (+):\n%s",
			loc(orDefault(st.ExpectedFile, st.File), st.ExpectedLine), strings.TrimRight(clean(st.Diff), "\n"))
	}
	var props []string
	if st.File != "" {
		props = append(props, "file="+ghProperty(st.File))
		if st.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", st.Line))
		}
	}
	verb := "failed"
	if st.Status == Error {
		verb = "could not run"
	}
	props = append(props, "title="+ghProperty("labrun: "+orDefault(st.Kind, "step")+" "+verb))
	return "::error " + strings.Join(props, ",") + "::" + ghData(msg) + "\n"
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

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// loc is file:line, or what of it is known.
func loc(file string, line int) string {
	switch {
	case file == "" && line == 0:
		return "?"
	case line == 0:
		return file
	case file == "":
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("%s:%d", file, line)
}
