package fake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// defaultBookmarkEvery is how often a watch that allows bookmarks gets
// one (Server.bookmarkEvery).
const defaultBookmarkEvery = 30 * time.Second

// handleWatch streams changes as newline-delimited WatchEvents, flushed one
// by one. resourceVersion "" or "0" starts with ADDED for every current
// object; N sends the changes after N (410 Gone when the log no longer has
// them). An object that starts or stops matching the selectors is sent as
// ADDED or DELETED, as kube-apiserver's watch cache does. With a Table
// Accept each event carries a one-row Table (column definitions in the
// first only).
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, req request) error {
	match, err := s.selectors(r, req)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	asTable := wantsTable(r)
	includeObject := q.Get("includeObject")
	bookmarks := q.Get("allowWatchBookmarks") == "true"
	timeout := 30*time.Minute + time.Duration(s.randIntn(1800))*time.Second
	if v := q.Get("timeoutSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return apierrors.NewBadRequest("invalid timeoutSeconds " + strconv.Quote(v))
		}
		if n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	var start uint64
	var initial []runtime.Object
	switch rvs := q.Get("resourceVersion"); rvs {
	case "", "0":
		initial, start = s.store.list(req.res, req.ns, match)
	default:
		n, err := strconv.ParseUint(rvs, 10, 64)
		if err != nil {
			return apierrors.NewBadRequest("invalid resource version: " + rvs)
		}
		start = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	headersSent := false
	send := func(typ watch.EventType, obj runtime.Object) error {
		var raw []byte
		var err error
		if asTable && typ != watch.Bookmark {
			t, terr := s.table(req.res, []runtime.Object{obj}, includeObject, headersSent)
			if terr != nil {
				return terr
			}
			headersSent = true
			t.ResourceVersion = accessor(obj).GetResourceVersion()
			raw, err = s.encode(t)
		} else {
			raw, err = s.encode(obj)
		}
		if err != nil {
			return err
		}
		line, err := json.Marshal(metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: raw}})
		if err != nil {
			return err
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	if flusher != nil {
		flusher.Flush()
	}
	for _, obj := range initial {
		if err := send(watch.Added, obj); err != nil {
			return nil
		}
	}
	rv := start
	// Bookmarks come on a fixed period, whether or not events (of any
	// resource) arrive meanwhile, each with the resourceVersion up to which
	// the watch has seen the store; when the wait times out, that is the
	// store's current one.
	every := time.Duration(s.bookmarkEvery.Load())
	if every <= 0 {
		every = defaultBookmarkEvery
	}
	nextBookmark := time.Now().Add(every)
	for {
		if bookmarks && !time.Now().Before(nextBookmark) {
			// A bookmark is an object of the watched kind with only
			// apiVersion, kind and metadata.resourceVersion.
			bm := req.res.newObj()
			accessor(bm).SetResourceVersion(formatRV(rv))
			if send(watch.Bookmark, bm) != nil {
				return nil
			}
			nextBookmark = time.Now().Add(every)
		}
		waitCtx, waitCancel := ctx, context.CancelFunc(func() {})
		if bookmarks {
			waitCtx, waitCancel = context.WithDeadline(ctx, nextBookmark)
		}
		evs, err := s.store.since(waitCtx, rv, 1000)
		waitCancel()
		var gone errGone
		switch {
		case errors.As(err, &gone):
			st := statusWithKind(toStatus(err))
			_ = send(watch.Error, &st)
			return nil
		case err != nil && ctx.Err() == nil && bookmarks:
			continue // the bookmark is due
		case err != nil:
			return nil
		}
		for _, ev := range evs {
			rv = ev.rv
			if ev.res != req.res {
				continue
			}
			if req.ns != "" && accessor(ev.obj).GetNamespace() != req.ns {
				continue
			}
			typ := ev.typ
			now := match(ev.obj)
			if typ == watch.Modified {
				before := ev.prev != nil && match(ev.prev)
				switch {
				case now && !before:
					typ = watch.Added
				case !now && before:
					typ, now = watch.Deleted, true
				}
			}
			if !now {
				continue
			}
			if err := send(typ, ev.obj.DeepCopyObject()); err != nil {
				return nil
			}
		}
	}
}
