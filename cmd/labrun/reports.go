package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/labrun/labrun/parser"
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
		if err := writeFileAtomic(s.path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--report %s=%s: %w", s.format, s.path, err)
		}
	}
	return nil
}

// writeFileAtomic writes path whole or not at all, with mode perm (a
// report is for everyone to read: 0644; a kubeconfig holds a token: 0600).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeGitHub prints the run's workflow commands (annotations) and appends
// its markdown summary to the file $GITHUB_STEP_SUMMARY names, if any.
func writeGitHub(st streams, r *report.Run) error {
	if err := report.WriteGitHub(st.out, r); err != nil {
		return err
	}
	path := st.env("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := report.WriteGitHubSummary(&buf, r); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	return nil
}

// githubDiagnostics prints a lint problem as a GitHub annotation at its
// file, line and column.
func githubDiagnostics(w io.Writer, diags []parser.Diagnostic) {
	for _, d := range diags {
		level := "warning"
		if d.Severity == parser.SeverityError {
			level = "error"
		}
		fmt.Fprint(w, report.GitHubCommand(level, d.Pos.File, d.Pos.Line, d.Pos.Col, "labrun lint: "+string(d.Severity), d.Message))
	}
}
