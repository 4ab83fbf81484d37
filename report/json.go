package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The JSON report (documented in the README, pinned by testdata/run.schema.json)
// carries every duration twice: exact nanoseconds (`duration_ns`, what Go
// decodes back) and seconds (`duration_s`, what jq users and dashboards
// want). Lists are never null, so `.chapters[].labs[].steps[]` always works.

// MarshalJSON adds duration_s and timeout_s and turns nil lists into [].
func (r Run) MarshalJSON() ([]byte, error) {
	type plain Run
	if r.Chapters == nil {
		r.Chapters = []ChapterResult{}
	}
	if r.Deck == nil {
		r.Deck = []string{}
	}
	return marshal(struct {
		plain
		Seconds        float64 `json:"duration_s"`
		TimeoutSeconds float64 `json:"timeout_s"`
	}{plain(r), r.Duration.Seconds(), r.Timeout.Seconds()})
}

// MarshalJSON adds duration_s and turns a nil lab list into [].
func (c ChapterResult) MarshalJSON() ([]byte, error) {
	type plain ChapterResult
	if c.Labs == nil {
		c.Labs = []LabResult{}
	}
	return marshal(struct {
		plain
		Seconds float64 `json:"duration_s"`
	}{plain(c), c.Duration.Seconds()})
}

// MarshalJSON adds duration_s and turns a nil step list into [].
func (l LabResult) MarshalJSON() ([]byte, error) {
	type plain LabResult
	if l.Steps == nil {
		l.Steps = []StepResult{}
	}
	return marshal(struct {
		plain
		Seconds float64 `json:"duration_s"`
	}{plain(l), l.Duration.Seconds()})
}

// MarshalJSON adds duration_s.
func (s StepResult) MarshalJSON() ([]byte, error) {
	type plain StepResult
	return marshal(struct {
		plain
		Seconds float64 `json:"duration_s"`
	}{plain(s), s.Duration.Seconds()})
}

// marshal is json.Marshal without HTML escaping: kubectl prints `<none>`,
// and the report should show it as such, not as \u003cnone\u003e.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// WriteJSON writes the run as JSON, in the schema the README documents.
func WriteJSON(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("writing the JSON report: no run")
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing the JSON report: %w", err)
	}
	return nil
}

// ReadJSON reads a report WriteJSON wrote, so a saved run can be rendered
// again (Replay it into a Console, or write it as JUnit). Unknown fields are
// ignored, so reports from newer versions still load.
func ReadJSON(rd io.Reader) (*Run, error) {
	var r Run
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("reading the JSON report: %w", err)
	}
	return &r, nil
}
