package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JUnit XML in the Jenkins/Ant dialect that Jenkins, GitLab, Azure and the
// GitHub test-report actions read (testdata/junit.xsd pins it): one test
// suite per chapter and one test case per step, so that every failed step
// counts and a dashboard's history follows a step while the slides around
// it shift (names hold no line numbers; file and line are properties).
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
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	File       string          `xml:"file,attr,omitempty"`
	Line       int             `xml:"line,attr,omitempty"`
	Time       string          `xml:"time,attr"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Skipped    *junitMessage   `xml:"skipped,omitempty"`
	Error      *junitMessage   `xml:"error,omitempty"`
	Failure    *junitMessage   `xml:"failure,omitempty"`
	SystemOut  *junitText      `xml:"system-out,omitempty"`
	props      []junitProperty // collected, then put in Properties
}

type junitProps struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
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
// step. A failed step is a <failure>; one labrun could not try, or the one
// running when the run was interrupted, an <error>; skipped, manual and
// not-verified steps, and the labs an interrupted run never reached, are
// <skipped> with the reason.
func WriteJUnit(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("writing the JUnit report: no run")
	}
	all := junitSuites{Name: "labrun " + strings.Join(r.Deck, " "), Time: seconds(r.Duration.Seconds())}
	stamp := ""
	if !r.Started.IsZero() {
		// Jenkins' schema wants ISO 8601 without a zone: use UTC.
		stamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, ch := range r.Chapters {
		s := junitSuite{Name: ch.File, File: ch.File, Time: seconds(ch.Duration.Seconds()), Timestamp: stamp}
		class := strings.TrimSuffix(ch.File, ".md")
		seen := map[string]int{}
		add := func(c junitCase) {
			// Two identical steps on one slide get #2, #3: names stay unique
			// and stable as long as the slide's own steps keep their order.
			seen[c.Name]++
			if n := seen[c.Name]; n > 1 {
				c.Name += " #" + strconv.Itoa(n)
			}
			if len(c.props) > 0 {
				c.Properties = &junitProps{c.props}
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		for _, lab := range ch.Labs {
			if len(lab.Steps) == 0 {
				c := junitCase{Name: slideName(lab) + ": (lab)", Classname: class, File: lab.File, Line: lab.Line,
					Time: seconds(lab.Duration.Seconds()), props: placeProps(lab.File, lab.Line)}
				s.Skipped++
				msg := "nothing to replay in this lab"
				if lab.NotRun() {
					msg = "not run: the run was interrupted before this lab"
				}
				c.Skipped = &junitMessage{Message: msg}
				add(c)
				continue
			}
			for _, st := range lab.Steps {
				c := junitCase{
					Name: slideName(lab) + ": " + clean(StepLabel(st)), Classname: class,
					File: st.File, Line: st.Line, Time: seconds(st.Duration.Seconds()),
					props: append(placeProps(st.File, st.Line), junitProperty{"kind", st.Kind}, junitProperty{"pane", strconv.Itoa(st.Pane)}),
				}
				if st.Expected != "" {
					c.props = append(c.props, junitProperty{"expected", loc(orDefault(st.ExpectedFile, st.File), st.ExpectedLine)})
				}
				switch st.Status {
				case Failed:
					s.Failures++
					c.Failure = failureMessage(st)
				case Error, Interrupted:
					s.Errors++
					c.Error = failureMessage(st)
				case Skipped, Manual, NotVerified:
					s.Skipped++
					c.Skipped = &junitMessage{Message: skipMessage(st)}
				}
				if st.Status.Bad() && st.Actual != "" {
					c.SystemOut = &junitText{xmlText(st.Actual)}
				}
				add(c)
			}
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

// slideName names a lab's slide by its title, which moves with the slide;
// only an untitled slide falls back to its number.
func slideName(lab LabResult) string {
	if lab.SlideTitle == "" {
		return fmt.Sprintf("slide %d", lab.Slide)
	}
	return clean(lab.SlideTitle)
}

func placeProps(file string, line int) []junitProperty {
	return []junitProperty{{"file", file}, {"line", strconv.Itoa(line)}}
}

// skipMessage says why a step was not checked, its status first.
func skipMessage(st StepResult) string {
	word := strings.ReplaceAll(string(st.Status), "_", " ")
	if st.Reason == "" {
		return word
	}
	return word + ": " + clean(st.Reason)
}

// failureMessage tells a CI reader what a person would need: where, what,
// why, the diff or the output's last lines, and the screen.
func failureMessage(st StepResult) *junitMessage {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n%s\n", loc(st.File, st.Line), StepLabel(st), st.Reason)
	if st.Cause != "" {
		fmt.Fprintf(&b, "(%s)\n", st.Cause)
	}
	if st.Hint != "" {
		fmt.Fprintf(&b, "hint: %s\n", st.Hint)
	}
	if nonZero(st.ExitStatuses) {
		fmt.Fprintf(&b, "exit statuses: %s\n", strings.Trim(fmt.Sprint(st.ExitStatuses), "[]"))
	}
	switch actual := collapseRepeats(trimBlankLines(clean(st.Actual))); {
	case st.Diff != "":
		fmt.Fprintf(&b, "\nexpected output at %s (-) against the actual output (+):\n%s\n",
			loc(orDefault(st.ExpectedFile, st.File), st.ExpectedLine), strings.TrimRight(st.Diff, "\n"))
	case actual != "" && !(st.Kind == "command" && FullScreen(st.Command)):
		fmt.Fprintf(&b, "\noutput:\n%s\n", lastLines(actual, outputLines))
	}
	if st.Screen != "" {
		fmt.Fprintf(&b, "\nscreen of pane %d:\n%s\n", st.Pane, trimScreen(st.Screen))
	}
	return &junitMessage{Message: fmt.Sprintf("%s: %s", loc(st.File, st.Line), clean(st.Reason)), Type: string(st.Status), Text: xmlText(b.String())}
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
