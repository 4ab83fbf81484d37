package executor

import (
	"os"
	"path/filepath"
	"testing"
)

// A file truncated by a save in place and not written yet, or missing in
// the middle of a save by rename, is not a save: Watch waits for its
// content (it once replayed an empty chapter, on a loaded machine).
func TestFingerprintWaitsForContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ch.md")
	for _, tc := range []struct {
		name     string
		content  *string
		complete bool
	}{
		{"missing", nil, false},
		{"empty", new(string), false},
		{"written", func() *string { s := "# A chapter\n"; return &s }(), true},
	} {
		os.Remove(path)
		if tc.content != nil {
			if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, complete := fingerprint([]string{path}); complete != tc.complete {
			t.Errorf("%s: complete %v, want %v", tc.name, complete, tc.complete)
		}
	}
}
