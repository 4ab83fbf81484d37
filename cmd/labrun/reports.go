package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/labrun/labrun/report"
)

// reportSpec is one `--report FORMAT=FILE`.
type reportSpec struct {
	format string
	path   string
}

func parseReports(specs []string) ([]reportSpec, error) {
	var out []reportSpec
	for _, s := range specs {
		format, path, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE, e.g. json=report.json or junit=junit.xml", s)
		}
		switch format {
		case "json", "junit", "html":
		default:
			return nil, fmt.Errorf("--report %q: unknown format %q (want json, junit or html)", s, format)
		}
		out = append(out, reportSpec{format, path})
	}
	return out, nil
}

// wantScreens says whether a report needs the slides and windows kept.
func wantScreens(specs []reportSpec) bool {
	for _, s := range specs {
		if s.format == "html" {
			return true
		}
	}
	return false
}

// writeReports renders every requested report. Each file is written whole
// or not at all (a temporary file renamed into place).
func writeReports(specs []reportSpec, r *report.Run) error {
	for _, s := range specs {
		var buf bytes.Buffer
		var err error
		switch s.format {
		case "json":
			err = report.WriteJSON(&buf, r)
		case "junit":
			err = report.WriteJUnit(&buf, r)
		case "html":
			err = report.WriteHTML(&buf, r)
		}
		if err != nil {
			return err
		}
		if err := writeFileAtomic(s.path, buf.Bytes()); err != nil {
			return fmt.Errorf("--report %s=%s: %w", s.format, s.path, err)
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// githubAnnotations prints ::error lines when running under GitHub Actions.
func githubAnnotations(w io.Writer, r *report.Run) {
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		_ = report.WriteGitHub(w, r)
	}
}
