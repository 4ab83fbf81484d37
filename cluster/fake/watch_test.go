package fake

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// watchEvent is a decoded watch line, with just what the tests look at.
type watchEvent struct {
	Type   string `json:"type"`
	Object struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Name            string            `json:"name"`
			ResourceVersion string            `json:"resourceVersion"`
			Annotations     map[string]string `json:"annotations"`
		} `json:"metadata"`
	} `json:"object"`
}

// openWatch starts a watch of configmaps in default and returns a channel
// of its events, closed when the stream ends.
func openWatch(t *testing.T, s *Server, c *client, query string) <-chan watchEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/namespaces/default/configmaps?watch=true&"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("watch: %s", resp.Status)
	}
	ch := make(chan watchEvent)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev watchEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev.Type = "UNDECODABLE " + sc.Text()
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// next waits for the next event of type typ, failing on the end of the
// stream or the deadline.
func nextOf(t *testing.T, ch <-chan watchEvent, typ string) watchEvent {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch ended before a %s", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %s event", typ)
		}
	}
}

func rvNum(t *testing.T, rv string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", rv, err)
	}
	return n
}

// TestWatchBookmarks: with allowWatchBookmarks a watcher gets periodic
// BOOKMARK events carrying only kind, apiVersion and the resourceVersion
// it has seen the store up to (not the initial-events-end annotation);
// without it, none.
func TestWatchBookmarks(t *testing.T) {
	s := startCluster(t, Options{})
	s.bookmarkEvery.Store(int64(100 * time.Millisecond))
	c := newClient(t, s)
	create := func(name string) uint64 {
		code, b := c.do("POST", "/api/v1/namespaces/default/configmaps", "application/json", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"}}`))
		if code != 201 {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
		var ev watchEvent
		if err := json.Unmarshal(b, &ev.Object); err != nil {
			t.Fatal(err)
		}
		return rvNum(t, ev.Object.Metadata.ResourceVersion)
	}
	rv1 := create("one")
	ch := openWatch(t, s, c, "allowWatchBookmarks=true&resourceVersion="+formatRV(rv1))
	bm := nextOf(t, ch, "BOOKMARK")
	o := bm.Object
	if o.Kind != "ConfigMap" || o.APIVersion != "v1" || o.Metadata.Name != "" || len(o.Metadata.Annotations) != 0 {
		t.Errorf("bookmark object %+v: want kind ConfigMap, apiVersion v1, no name, no annotations", o)
	}
	if got := rvNum(t, o.Metadata.ResourceVersion); got < rv1 || got > s.store.currentRV() {
		t.Errorf("bookmark resourceVersion %d, want within [%d, %d]", got, rv1, s.store.currentRV())
	}
	rv2 := create("two")
	if ev := nextOf(t, ch, "ADDED"); ev.Object.Metadata.Name != "two" {
		t.Errorf("ADDED %q, want two", ev.Object.Metadata.Name)
	}
	// The next bookmark is at least at the new object's version, and is
	// the store's current one when nothing else was written meanwhile.
	bm = nextOf(t, ch, "BOOKMARK")
	got := rvNum(t, bm.Object.Metadata.ResourceVersion)
	if got < rv2 || got > s.store.currentRV() {
		t.Errorf("bookmark after two: resourceVersion %d, want within [%d, %d]", got, rv2, s.store.currentRV())
	}

	// In a quiet store a bookmark carries the current resourceVersion
	// (each one does when no write falls between it and its reception).
	current := false
	for i := 0; i < 5 && !current; i++ {
		bm := nextOf(t, ch, "BOOKMARK")
		current = rvNum(t, bm.Object.Metadata.ResourceVersion) == s.store.currentRV()
	}
	if !current {
		t.Errorf("no bookmark of 5 carried the store's current resourceVersion %d", s.store.currentRV())
	}

	// No bookmarks unless asked for.
	for ev := range openWatch(t, s, c, "timeoutSeconds=1&resourceVersion="+formatRV(rv2)) {
		if ev.Type == "BOOKMARK" {
			t.Errorf("bookmark without allowWatchBookmarks: %+v", ev)
		}
	}
}
