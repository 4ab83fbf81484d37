package fake

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// event is one change in the store. obj is an immutable snapshot: the store
// and every watcher share it, nobody mutates it.
type event struct {
	typ watch.EventType
	res *resourceInfo
	obj runtime.Object
	// prev is the object before a Modified event.
	prev runtime.Object
	rv   uint64
}

// errNoChange returned by an update function leaves the object as it is,
// with no new resourceVersion and no event.
var errNoChange = errors.New("no change")

// maxLog bounds the event log; a watch from an older resourceVersion gets
// 410 Gone, and clients relist, as with a real apiserver's watch cache.
const maxLog = 200000

// store keeps objects by resource, namespace and name, hands out deep
// copies, and records every write in an event log with a strictly
// increasing resourceVersion (one per write, so log[i].rv == logStart+i).
// Watchers and controllers read the log from the resourceVersion they last
// saw and block on notify, which is closed and replaced at every write.
type store struct {
	mu       sync.Mutex
	objs     map[*resourceInfo]map[string]runtime.Object
	rv       uint64
	log      []event
	logStart uint64
	notify   chan struct{}
	maxLog   int
}

func newStore() *store {
	return &store{objs: map[*resourceInfo]map[string]runtime.Object{}, notify: make(chan struct{}), rv: 1, logStart: 2, maxLog: maxLog}
}

func objKey(ns, name string) string { return ns + "/" + name }

func accessor(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic("fake: object without metadata: " + err.Error())
	}
	return m
}

func formatRV(rv uint64) string { return strconv.FormatUint(rv, 10) }

// record appends an event; the caller holds mu and has already set obj's
// resourceVersion to rv.
func (s *store) record(typ watch.EventType, res *resourceInfo, obj, prev runtime.Object, rv uint64) {
	s.log = append(s.log, event{typ: typ, res: res, obj: obj, prev: prev, rv: rv})
	if len(s.log) > s.maxLog {
		drop := len(s.log) / 2
		s.log = append([]event(nil), s.log[drop:]...)
		s.logStart += uint64(drop)
	}
	close(s.notify)
	s.notify = make(chan struct{})
}

func (s *store) currentRV() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rv
}

func (s *store) get(res *resourceInfo, ns, name string) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, ok := s.objs[res][objKey(ns, name)]
	if !ok {
		return nil, apierrors.NewNotFound(res.gr(), name)
	}
	return obj.DeepCopyObject(), nil
}

// list returns deep copies of the objects in ns ("" = all) that match, in
// namespace/name order like etcd, and the store's resourceVersion.
func (s *store) list(res *resourceInfo, ns string, match func(runtime.Object) bool) ([]runtime.Object, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.objs[res]))
	for k, obj := range s.objs[res] {
		if ns != "" && accessor(obj).GetNamespace() != ns {
			continue
		}
		if match != nil && !match(obj) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]runtime.Object, len(keys))
	for i, k := range keys {
		out[i] = s.objs[res][k].DeepCopyObject()
	}
	return out, s.rv
}

// create stores obj (owned by the store from now on) under its namespace
// and name, and returns a copy with its new resourceVersion.
func (s *store) create(res *resourceInfo, obj runtime.Object) (runtime.Object, error) {
	m := accessor(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := objKey(m.GetNamespace(), m.GetName())
	if _, ok := s.objs[res][k]; ok {
		return nil, apierrors.NewAlreadyExists(res.gr(), m.GetName())
	}
	if s.objs[res] == nil {
		s.objs[res] = map[string]runtime.Object{}
	}
	s.rv++
	m.SetResourceVersion(formatRV(s.rv))
	s.objs[res][k] = obj
	s.record(watch.Added, res, obj, nil, s.rv)
	return obj.DeepCopyObject(), nil
}

// update applies fn to a copy of the current object under the store's lock
// (fn must not call the store) and stores its result. fn may return
// errNoChange to leave the object unchanged.
func (s *store) update(res *resourceInfo, ns, name string, fn func(cur runtime.Object) (runtime.Object, error)) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := objKey(ns, name)
	cur, ok := s.objs[res][k]
	if !ok {
		return nil, apierrors.NewNotFound(res.gr(), name)
	}
	next, err := fn(cur.DeepCopyObject())
	if errors.Is(err, errNoChange) {
		return cur.DeepCopyObject(), nil
	}
	if err != nil {
		return nil, err
	}
	s.rv++
	accessor(next).SetResourceVersion(formatRV(s.rv))
	s.objs[res][k] = next
	s.record(watch.Modified, res, next, cur, s.rv)
	return next.DeepCopyObject(), nil
}

// remove deletes an object; uid, when set, must match (a precondition that
// keeps a delayed deletion from removing a newer object of the same name).
func (s *store) remove(res *resourceInfo, ns, name, uid string) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := objKey(ns, name)
	cur, ok := s.objs[res][k]
	if !ok {
		return nil, apierrors.NewNotFound(res.gr(), name)
	}
	if uid != "" && string(accessor(cur).GetUID()) != uid {
		return nil, apierrors.NewConflict(res.gr(), name, errors.New("the UID in the precondition does not match the UID in record; the object might have been deleted and then recreated"))
	}
	delete(s.objs[res], k)
	last := cur.DeepCopyObject()
	s.rv++
	accessor(last).SetResourceVersion(formatRV(s.rv))
	s.record(watch.Deleted, res, last, nil, s.rv)
	return last.DeepCopyObject(), nil
}

// errGone says a watch asked for history the log no longer has.
type errGone struct{ asked, oldest uint64 }

func (e errGone) Error() string {
	return "too old resource version: " + formatRV(e.asked) + " (" + formatRV(e.oldest) + ")"
}

// since blocks until the log holds events after rv, and returns them (at
// most limit), or returns ctx's error.
func (s *store) since(ctx context.Context, rv uint64, limit int) ([]event, error) {
	for {
		s.mu.Lock()
		if rv+1 < s.logStart && rv < s.rv {
			oldest := s.logStart - 1
			s.mu.Unlock()
			return nil, errGone{asked: rv, oldest: oldest}
		}
		if rv < s.rv {
			i := int(rv + 1 - s.logStart)
			if i < 0 {
				i = 0
			}
			end := len(s.log)
			if limit > 0 && end-i > limit {
				end = i + limit
			}
			out := append([]event(nil), s.log[i:end]...)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
