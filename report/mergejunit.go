package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

// MergeJUnit combines the JUnit files of shards into one <testsuites>,
// keeping every suite as it was written (whatever its cases carry) and
// summing the counts, so a dashboard sees one run.
func MergeJUnit(w io.Writer, inputs map[string][]byte, order []string) error {
	type rawSuite struct {
		Attrs []xml.Attr `xml:",any,attr"`
		Inner []byte     `xml:",innerxml"`
	}
	type rawSuites struct {
		XMLName xml.Name   `xml:"testsuites"`
		Attrs   []xml.Attr `xml:",any,attr"`
		Suites  []rawSuite `xml:"testsuite"`
	}
	var out rawSuites
	sums := map[string]float64{}
	keys := []string{"tests", "failures", "errors", "skipped", "time"}
	name := ""
	for _, file := range order {
		var in rawSuites
		if err := xml.Unmarshal(inputs[file], &in); err != nil {
			return fmt.Errorf("%s: not a JUnit <testsuites> file: %w", file, err)
		}
		for _, a := range in.Attrs {
			if a.Name.Local == "name" && name == "" {
				name = a.Value
			}
			for _, k := range keys {
				if a.Name.Local == k {
					v, err := strconv.ParseFloat(a.Value, 64)
					if err != nil {
						return fmt.Errorf("%s: testsuites %s=%q is not a number", file, k, a.Value)
					}
					if k == "time" {
						sums[k] = max(sums[k], v) // shards run side by side
					} else {
						sums[k] += v
					}
				}
			}
		}
		out.Suites = append(out.Suites, in.Suites...)
	}
	if name != "" {
		out.Attrs = append(out.Attrs, xml.Attr{Name: xml.Name{Local: "name"}, Value: name})
	}
	for _, k := range keys {
		v := strconv.FormatFloat(sums[k], 'f', -1, 64)
		if k == "time" {
			v = strconv.FormatFloat(sums[k], 'f', 3, 64)
		}
		out.Attrs = append(out.Attrs, xml.Attr{Name: xml.Name{Local: k}, Value: v})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
