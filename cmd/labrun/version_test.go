package main

import (
	"strings"
	"testing"
)

func TestBuildString(t *testing.T) {
	for _, tc := range []struct {
		b    build
		want string
	}{
		{build{version: "v0.3.0", commit: "0123456789abcdef0123456789abcdef01234567", goVersion: "go1.26.0"}, "v0.3.0 commit 0123456789ab go1.26.0"},
		{build{version: "(devel)", commit: "0123456789abcdef0123456789abcdef01234567+dirty", goVersion: "go1.26.0"}, "(devel) commit 0123456789ab+dirty go1.26.0"},
		{build{version: "(devel)", goVersion: "go1.26.0"}, "(devel) commit unknown (built without VCS stamping: use make build) go1.26.0"},
	} {
		if got := tc.b.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.b, got, tc.want)
		}
	}
	// A test binary records no VCS information: labrun says so rather than
	// inventing a commit.
	if b := readBuild(); b.version != "(devel)" || (b.commit == "" && !strings.Contains(b.String(), "commit unknown")) {
		t.Errorf("readBuild() = %+v, %q", b, b.String())
	}
}
