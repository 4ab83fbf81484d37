package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/labrun/labrun/parser"
)

// loadDecks reads every chapter or manifest named and joins them into one
// deck. Missing files are a usage error; problems inside files are
// diagnostics, returned for the caller to print.
func loadDecks(paths []string) (*parser.Deck, []parser.Diagnostic, error) {
	deck := &parser.Deck{File: strings.Join(paths, " ")}
	var diags []parser.Diagnostic
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			// The path is said once: "cannot read x.md: no such file or directory".
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, nil, &exitError{exitUsage, fmt.Errorf("cannot read %s: %w", p, err)}
		}
		d, ds := parser.Load(p, os.ReadFile)
		diags = append(diags, ds...)
		if d == nil {
			continue
		}
		if len(paths) == 1 {
			deck.Title = d.Title
		}
		if deck.GitRepo == "" {
			deck.GitRepo = d.GitRepo // the repository the labs clone: the first deck's
		}
		deck.Chapters = append(deck.Chapters, d.Chapters...)
	}
	return deck, diags, nil
}

// printDiagnostics writes diagnostics with their source line and a caret,
// and counts the errors among them.
func printDiagnostics(w io.Writer, diags []parser.Diagnostic) (errors int) {
	for _, d := range diags {
		fmt.Fprintln(w, d.Format())
		if d.Severity == parser.SeverityError {
			errors++
		}
	}
	return errors
}
