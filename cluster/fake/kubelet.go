package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labrun/labrun/cluster"
	"github.com/labrun/labrun/cluster/busybox"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// kubelet runs the pods bound to the nodes: one worker per pod, each
// container a local process in its own process group (or a built-in
// behaviour from the image catalogue), its output the container's log.
type kubelet struct {
	s       *Server
	mu      sync.Mutex
	workers map[types.UID]*podWorker
	closed  bool
	wg      sync.WaitGroup
	applets map[string]bool
}

func newKubelet(s *Server) *kubelet {
	k := &kubelet{s: s, workers: map[types.UID]*podWorker{}, applets: map[string]bool{}}
	for _, a := range busybox.Applets() {
		k.applets[a] = true
	}
	return k
}

// ensure starts a worker for a pod bound to a node, once.
func (k *kubelet) ensure(pod *corev1.Pod) {
	if pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil ||
		pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || k.workers[pod.UID] != nil {
		return
	}
	w := newPodWorker(k, pod)
	k.workers[pod.UID] = w
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		w.run()
	}()
}

func (k *kubelet) worker(uid types.UID) *podWorker {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.workers[uid]
}

func (k *kubelet) forget(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.workers, uid)
}

// shutdown stops every container (TERM, then KILL after a short grace) and
// waits for the workers.
func (k *kubelet) shutdown(ctx context.Context) {
	k.mu.Lock()
	k.closed = true
	ws := make([]*podWorker, 0, len(k.workers))
	for _, w := range k.workers {
		ws = append(ws, w)
	}
	k.mu.Unlock()
	for _, w := range ws {
		w.terminate(2*time.Second, false)
	}
	done := make(chan struct{})
	go func() { k.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, w := range ws {
			w.killAll()
		}
	}
}

// deletePod starts a graceful deletion: the pod gets a deletionTimestamp,
// its containers get SIGTERM and, after the grace period, SIGKILL; the pod
// object goes when they have stopped. A pod with nothing running goes now.
func (k *kubelet) deletePod(pod *corev1.Pod, grace *int64) (runtime.Object, error) {
	s := k.s
	res := s.reg.must("", "pods")
	g := deref64(pod.Spec.TerminationGracePeriodSeconds, 30)
	if grace != nil {
		g = *grace
	}
	if g < 0 {
		g = 0
	}
	w := k.worker(pod.UID)
	if w == nil || w.finished() || g == 0 {
		// Remove first: the worker also removes the pod once told to
		// stop, and had it won the race this DELETE would answer 404
		// (which kubectl delete --all silently skips).
		out, err := s.store.remove(res, pod.Namespace, pod.Name, string(pod.UID))
		if w != nil {
			w.terminate(0, true)
		}
		return out, err
	}
	updated, err := s.store.update(res, pod.Namespace, pod.Name, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*corev1.Pod)
		if p.DeletionTimestamp != nil && deref64(p.DeletionGracePeriodSeconds, 0) <= g {
			return nil, errNoChange
		}
		t := metav1.NewTime(time.Now().Add(time.Duration(g) * time.Second))
		p.DeletionTimestamp = &t
		p.DeletionGracePeriodSeconds = &g
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	w.terminate(time.Duration(g)*time.Second, true)
	return updated, nil
}

func (k *kubelet) logFor(pod *corev1.Pod, container string, previous bool) (*logBuf, error) {
	w := k.worker(pod.UID)
	var c *containerRun
	if w != nil {
		c = w.container(container)
	}
	waiting := func() error {
		reason := "ContainerCreating"
		for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
			if cs.Name == container && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				reason = cs.State.Waiting.Reason
			}
		}
		return apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: %s", container, pod.Name, reason))
	}
	if c == nil {
		return nil, waiting()
	}
	cur, prev := c.logs()
	if previous {
		if prev == nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", container, pod.Name))
		}
		return prev, nil
	}
	if cur == nil {
		return nil, waiting()
	}
	return cur, nil
}

// podWorker drives one pod through its life on its node.
type podWorker struct {
	k         *kubelet
	pod       *corev1.Pod // as first seen; the spec does not change
	nodeIndex int
	dir       string
	podIP     string
	hostIP    string
	started   metav1.Time

	stopOnce sync.Once
	stop     chan struct{} // closed when the pod is being deleted
	graceMu  sync.Mutex
	deadline time.Time
	remove   bool // remove the pod object once stopped
	done     chan struct{}

	mu         sync.Mutex
	containers []*containerRun
	initDone   bool
	phase      corev1.PodPhase
	conds      map[corev1.PodConditionType]*corev1.PodCondition
	syncMu     sync.Mutex
	isFinished bool
}

func newPodWorker(k *kubelet, pod *corev1.Pod) *podWorker {
	idx := 0
	for i, n := range k.s.nodes {
		if n == pod.Spec.NodeName {
			idx = i
		}
	}
	w := &podWorker{
		k: k, pod: pod.DeepCopy(), nodeIndex: idx,
		dir:   filepath.Join(k.s.opts.Dir, "containers", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		phase: corev1.PodPending,
		conds: map[corev1.PodConditionType]*corev1.PodCondition{},
	}
	w.hostIP = nodeIP(idx)
	if pod.Spec.HostNetwork {
		w.podIP = w.hostIP
	} else {
		w.podIP = k.s.allocPodIP(idx + 1)
	}
	for _, c := range pod.Spec.InitContainers {
		w.containers = append(w.containers, &containerRun{w: w, spec: c, init: true})
	}
	for _, c := range pod.Spec.Containers {
		w.containers = append(w.containers, &containerRun{w: w, spec: c})
	}
	return w
}

func nodeIP(idx int) string { return fmt.Sprintf("10.10.0.%d", idx+11) }

func (w *podWorker) container(name string) *containerRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.containers {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

func (w *podWorker) finished() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.isFinished
}

// terminate asks the pod's containers to stop within grace; remove says
// the pod object goes once they have.
func (w *podWorker) terminate(grace time.Duration, remove bool) {
	w.graceMu.Lock()
	dl := time.Now().Add(grace)
	if w.deadline.IsZero() || dl.Before(w.deadline) {
		w.deadline = dl
	}
	w.remove = w.remove || remove
	w.graceMu.Unlock()
	w.stopOnce.Do(func() { close(w.stop) })
	// A shorter grace on a second delete must cut the wait short.
	w.mu.Lock()
	cs := append([]*containerRun(nil), w.containers...)
	w.mu.Unlock()
	for _, c := range cs {
		c.regrace()
	}
}

func (w *podWorker) graceDeadline() time.Time {
	w.graceMu.Lock()
	defer w.graceMu.Unlock()
	return w.deadline
}

func (w *podWorker) killAll() {
	w.mu.Lock()
	cs := append([]*containerRun(nil), w.containers...)
	w.mu.Unlock()
	for _, c := range cs {
		c.signal(syscall.SIGKILL)
	}
}

func (w *podWorker) stopping() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *podWorker) setCond(t corev1.PodConditionType, ok bool, reason, msg string) {
	st := corev1.ConditionFalse
	if ok {
		st = corev1.ConditionTrue
	}
	c := w.conds[t]
	if c == nil || c.Status != st {
		w.conds[t] = &corev1.PodCondition{Type: t, Status: st, LastTransitionTime: metav1.Now(), Reason: reason, Message: msg}
		return
	}
	c.Reason, c.Message = reason, msg
}

// run is the pod's life: set up, init containers in order, app containers
// in parallel, then, once stopped, the removal of the pod object.
func (w *podWorker) run() {
	s := w.k.s
	defer close(w.done)
	defer w.k.forget(w.pod.UID)
	defer os.RemoveAll(w.dir)
	w.started = metav1.NewTime(time.Now().Truncate(time.Second))
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		s.logf("pod %s/%s: %v", w.pod.Namespace, w.pod.Name, err)
	}
	w.mu.Lock()
	w.setCond(corev1.PodScheduled, true, "", "")
	w.setCond("PodReadyToStartContainers", false, "", "")
	w.setCond(corev1.PodInitialized, len(w.pod.Spec.InitContainers) == 0, "", "")
	w.updateReadyLocked()
	for _, c := range w.containers {
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		if c.init {
			c.state.Waiting.Reason = "PodInitializing"
		}
	}
	if len(w.pod.Spec.InitContainers) > 0 && len(w.containers) > 0 {
		w.containers[0].state.Waiting.Reason = "ContainerCreating"
	}
	w.mu.Unlock()
	w.sync()
	w.mu.Lock()
	w.setCond("PodReadyToStartContainers", true, "", "")
	w.mu.Unlock()

	ok := true
	for _, c := range w.containers {
		if !c.init {
			continue
		}
		if !c.runInit() {
			ok = false
			break
		}
	}
	if ok && !w.stopping() {
		w.mu.Lock()
		w.initDone = true
		w.setCond(corev1.PodInitialized, true, "", "")
		w.mu.Unlock()
		var wg sync.WaitGroup
		for _, c := range w.containers {
			if c.init {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.runApp()
			}()
		}
		wg.Wait()
	}
	w.mu.Lock()
	w.isFinished = true
	w.mu.Unlock()
	w.finalPhase()
	w.sync()
	if !w.stopping() {
		// A finished pod (Succeeded/Failed) stays until it is deleted.
		<-w.stop
	}
	w.graceMu.Lock()
	remove := w.remove
	w.graceMu.Unlock()
	if remove {
		res := s.reg.must("", "pods")
		_, _ = s.store.remove(res, w.pod.Namespace, w.pod.Name, string(w.pod.UID))
	}
}

// finalPhase sets Succeeded or Failed when no container will run again.
func (w *podWorker) finalPhase() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping() {
		// Deleted pods keep their phase while the object lives on.
		if w.phase == corev1.PodRunning {
			allZero := true
			for _, c := range w.containers {
				if !c.init && (c.state.Terminated == nil || c.state.Terminated.ExitCode != 0) {
					allZero = false
				}
			}
			if allZero {
				w.phase = corev1.PodSucceeded
			} else {
				w.phase = corev1.PodFailed
			}
		}
		return
	}
	failed := false
	for _, c := range w.containers {
		if c.state.Terminated != nil && c.state.Terminated.ExitCode != 0 {
			failed = true
		}
		if c.init && c.state.Terminated == nil {
			failed = true
		}
	}
	if failed {
		w.phase = corev1.PodFailed
	} else {
		w.phase = corev1.PodSucceeded
	}
	w.updateReadyLocked()
}

// updateReadyLocked derives Ready and ContainersReady from the containers.
func (w *podWorker) updateReadyLocked() {
	var notReady []string
	for _, c := range w.containers {
		if !c.init && !c.ready {
			notReady = append(notReady, c.spec.Name)
		}
	}
	if len(notReady) == 0 && w.phase != corev1.PodSucceeded && w.phase != corev1.PodFailed {
		w.setCond(corev1.ContainersReady, true, "", "")
		w.setCond(corev1.PodReady, true, "", "")
		return
	}
	reason, msg := "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	if w.phase == corev1.PodSucceeded || w.phase == corev1.PodFailed {
		reason, msg = "PodCompleted", ""
	}
	w.setCond(corev1.ContainersReady, false, reason, msg)
	w.setCond(corev1.PodReady, false, reason, msg)
}

// sync writes the pod's status as the worker sees it now.
func (w *podWorker) sync() {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	st := corev1.PodStatus{
		Phase:     w.phase,
		HostIP:    w.hostIP,
		HostIPs:   []corev1.HostIP{{IP: w.hostIP}},
		PodIP:     w.podIP,
		PodIPs:    []corev1.PodIP{{IP: w.podIP}},
		StartTime: &w.started,
		QOSClass:  corev1.PodQOSBestEffort,
	}
	for _, t := range []corev1.PodConditionType{"PodReadyToStartContainers", corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		if c := w.conds[t]; c != nil {
			st.Conditions = append(st.Conditions, *c)
		}
	}
	for _, c := range w.containers {
		cs := c.statusLocked()
		if c.init {
			st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		} else {
			st.ContainerStatuses = append(st.ContainerStatuses, cs)
		}
	}
	w.mu.Unlock()
	res := w.k.s.reg.must("", "pods")
	_, err := w.k.s.store.update(res, w.pod.Namespace, w.pod.Name, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*corev1.Pod)
		if p.UID != w.pod.UID {
			return nil, errNoChange
		}
		// Keep the scheduler's PodScheduled condition time.
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled {
				for i := range st.Conditions {
					if st.Conditions[i].Type == corev1.PodScheduled {
						st.Conditions[i] = c
					}
				}
			}
		}
		st.NominatedNodeName = p.Status.NominatedNodeName
		if equalStatus(p.Status, st) {
			return nil, errNoChange
		}
		p.Status = st
		return p, nil
	})
	if err != nil && !apierrors.IsNotFound(err) {
		w.k.s.logf("pod %s/%s: status: %v", w.pod.Namespace, w.pod.Name, err)
	}
}

func equalStatus(a, b corev1.PodStatus) bool {
	pa := &corev1.Pod{Status: a}
	pb := &corev1.Pod{Status: b}
	return equalIgnoringRV(pa, pb)
}

func (w *podWorker) event(typ, reason, msg, fieldPath string) {
	w.k.s.recordEvent(w.pod, "Pod", fieldPath, typ, reason, msg, "kubelet", w.pod.Spec.NodeName)
}

// containerRun is one container of a pod and its successive instances.
type containerRun struct {
	w    *podWorker
	spec corev1.Container
	init bool

	// guarded by w.mu
	state     corev1.ContainerState
	lastState corev1.ContainerState
	restarts  int32
	ready     bool
	started   bool
	id        string
	cur, prev *logBuf
	inst      instance
	regraceCh chan struct{}
}

func (c *containerRun) logs() (*logBuf, *logBuf) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.cur, c.prev
}

func (c *containerRun) statusLocked() corev1.ContainerStatus {
	img := normalizeImage(c.spec.Image)
	cs := corev1.ContainerStatus{
		Name: c.spec.Name, State: c.state, LastTerminationState: c.lastState, Ready: c.ready,
		RestartCount: c.restarts, Image: img, Started: ptr(c.started),
	}
	if c.id != "" {
		cs.ContainerID = "containerd://" + c.id
		sum := sha256.Sum256([]byte(img))
		cs.ImageID = strings.SplitN(img, ":", 2)[0] + "@sha256:" + hex.EncodeToString(sum[:])
	}
	if c.state.Running != nil {
		cs.Started = ptr(true)
	}
	return cs
}

func (c *containerRun) signal(sig syscall.Signal) {
	c.w.mu.Lock()
	inst := c.inst
	c.w.mu.Unlock()
	if inst != nil {
		inst.signal(sig)
	}
}

func (c *containerRun) regrace() {
	c.w.mu.Lock()
	ch := c.regraceCh
	c.w.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// runInit runs an init container until it succeeds; false if it failed
// for good or the pod is being deleted.
func (c *containerRun) runInit() bool {
	for {
		code := c.runOnce()
		if c.w.stopping() {
			return false
		}
		if code == 0 {
			return true
		}
		if c.w.pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return false
		}
		if !c.backoff() {
			return false
		}
	}
}

// runApp runs an app container and restarts it as restartPolicy says,
// with CrashLoopBackOff's doubling delay (10s to 5m; the first restart is
// immediate).
func (c *containerRun) runApp() {
	for {
		start := time.Now()
		code := c.runOnce()
		if c.w.stopping() {
			return
		}
		switch c.w.pod.Spec.RestartPolicy {
		case corev1.RestartPolicyNever:
			return
		case corev1.RestartPolicyOnFailure:
			if code == 0 {
				return
			}
		}
		if time.Since(start) > 10*time.Minute {
			c.w.mu.Lock()
			c.restarts = 0
			c.w.mu.Unlock()
		}
		if !c.backoff() {
			return
		}
	}
}

// backoff waits before a restart; false if the pod is being deleted.
func (c *containerRun) backoff() bool {
	c.w.mu.Lock()
	n := c.restarts
	c.w.mu.Unlock()
	if n == 0 {
		return !c.w.stopping()
	}
	d := 10 * time.Second
	for i := int32(1); i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	p := c.w.pod
	c.w.mu.Lock()
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
		Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", d, c.spec.Name, p.Name, p.Namespace, p.UID)}}
	c.w.mu.Unlock()
	c.w.sync()
	c.w.event(corev1.EventTypeWarning, "BackOff", fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", c.spec.Name, p.Name, p.Namespace, p.UID), c.fieldPath())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.w.stop:
		return false
	}
}

func (c *containerRun) fieldPath() string {
	if c.init {
		for i, ic := range c.w.pod.Spec.InitContainers {
			if ic.Name == c.spec.Name {
				return fmt.Sprintf("spec.initContainers{%s}", ic.Name)
			}
			_ = i
		}
	}
	return fmt.Sprintf("spec.containers{%s}", c.spec.Name)
}

// runOnce starts one instance, waits for it (or for the pod's deletion,
// then TERM and, at the grace deadline, KILL) and records how it ended.
func (c *containerRun) runOnce() int {
	w := c.w
	s := w.k.s
	p := w.pod
	first := func() bool { w.mu.Lock(); defer w.mu.Unlock(); return c.id == "" }()
	if first {
		if c.spec.ImagePullPolicy == corev1.PullAlways {
			w.event(corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.spec.Image), c.fieldPath())
			size, took := imagePullFacts(c.spec.Image)
			w.event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s (%s including waiting). Image size: %d bytes.", c.spec.Image, took, took, size), c.fieldPath())
		} else {
			w.event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.spec.Image), c.fieldPath())
		}
	}
	logs := newLogBuf()
	id := make([]byte, 32)
	s.rngMu.Lock()
	s.rng.Read(id)
	s.rngMu.Unlock()
	inst, err := s.startContainer(w, c, logs)
	w.mu.Lock()
	if c.cur != nil {
		c.prev = c.cur
		c.restarts++
	}
	c.cur = logs
	c.id = hex.EncodeToString(id)
	now := metav1.Now()
	if err != nil {
		logs.close()
		c.lastState = c.stateAsLast()
		c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: metav1.NewTime(time.Unix(0, 0).UTC()), FinishedAt: now, ContainerID: "containerd://" + c.id}}
		c.ready = false
		w.updateReadyLocked()
		w.mu.Unlock()
		w.sync()
		w.event(corev1.EventTypeWarning, "Failed", fmt.Sprintf("Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: %v", err), c.fieldPath())
		return 128
	}
	c.inst = inst
	c.regraceCh = make(chan struct{}, 1)
	regrace := c.regraceCh
	c.lastState = c.stateAsLast()
	c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	c.ready = !c.init
	c.started = true
	if !c.init && w.phase == corev1.PodPending && w.initDone {
		w.phase = corev1.PodRunning
	}
	w.updateReadyLocked()
	w.mu.Unlock()
	w.event(corev1.EventTypeNormal, "Created", "Created container: "+c.spec.Name, c.fieldPath())
	w.event(corev1.EventTypeNormal, "Started", "Started container "+c.spec.Name, c.fieldPath())
	w.sync()

	select {
	case <-inst.done():
	case <-w.stop:
		w.event(corev1.EventTypeNormal, "Killing", fmt.Sprintf("Stopping container %s", c.spec.Name), c.fieldPath())
		inst.signal(syscall.SIGTERM)
	wait:
		for {
			t := time.NewTimer(time.Until(w.graceDeadline()))
			select {
			case <-inst.done():
				t.Stop()
				break wait
			case <-regrace:
				t.Stop()
			case <-t.C:
				inst.signal(syscall.SIGKILL)
				<-inst.done()
				break wait
			}
		}
	}
	logs.close()
	code, sig := inst.result()
	w.mu.Lock()
	c.inst = nil
	term := &corev1.ContainerStateTerminated{ExitCode: int32(code), StartedAt: c.state.Running.StartedAt, FinishedAt: metav1.Now(), ContainerID: "containerd://" + c.id}
	if code == 0 {
		term.Reason = "Completed"
	} else {
		term.Reason = "Error"
	}
	_ = sig
	c.state = corev1.ContainerState{Terminated: term}
	c.ready = false
	c.started = false
	w.updateReadyLocked()
	w.mu.Unlock()
	w.sync()
	_ = p
	return code
}

func (c *containerRun) stateAsLast() corev1.ContainerState {
	if c.state.Terminated != nil {
		return corev1.ContainerState{Terminated: c.state.Terminated}
	}
	return c.lastState
}

// normalizeImage spells an image as containerd reports it.
func normalizeImage(img string) string {
	name := img
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		if !hasSlash {
			name = "library/" + name
		}
		name = "docker.io/" + name
	}
	if imageTag(img) == "latest" && !strings.Contains(img[strings.LastIndexByte(img, '/')+1:], ":") {
		name += ":latest"
	}
	return name
}

// instance is one run of a container.
type instance interface {
	done() <-chan struct{}
	result() (code int, signal int)
	signal(sig syscall.Signal)
}

// procInstance is a container run as a local process group.
type procInstance struct {
	cmd  *exec.Cmd
	ch   chan struct{}
	code int
	sig  int
	// mu guards reaped: once the leader is reaped its pid, and so its
	// process group id, may belong to a stranger (pid_max can be small and
	// wrap quickly), so nothing may be signalled by that number any more.
	mu     sync.Mutex
	reaped bool
}

func (p *procInstance) done() <-chan struct{} { return p.ch }
func (p *procInstance) result() (int, int)    { return p.code, p.sig }
func (p *procInstance) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd.Process != nil && !p.reaped {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// wait reaps the container once its whole group is ended; afterwards its
// pid may be reused, so signal sends nothing any more.
func (p *procInstance) wait() error { return cluster.WaitGroup(p.cmd, reapLock{p}) }

// reapLock is held by cluster.WaitGroup around the last kill and the reap;
// releasing it marks the instance reaped.
type reapLock struct{ p *procInstance }

func (l reapLock) Lock() { l.p.mu.Lock() }
func (l reapLock) Unlock() {
	l.p.reaped = true
	l.p.mu.Unlock()
}

// startContainer starts a container instance: the command of the pod spec
// (or the image's default from the catalogue) as a process, or a built-in
// behaviour for catalogued images without a command.
func (s *Server) startContainer(w *podWorker, c *containerRun, logs *logBuf) (instance, error) {
	argv, builtin := s.containerArgv(c.spec)
	if builtin != nil {
		return startBuiltin(builtin, logs), nil
	}
	path, err := s.resolve(argv[0])
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	if filepath.Base(path) != filepath.Base(argv[0]) || strings.HasPrefix(path, s.binDir) {
		cmd.Args[0] = path
	}
	cmd.Dir = w.dir
	if c.spec.WorkingDir != "" {
		// The image's filesystem is not ours; stay in the scratch dir.
		cmd.Dir = w.dir
	}
	cmd.Env = s.containerEnv(w, c)
	cmd.Stdout = logs
	cmd.Stderr = logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &procInstance{cmd: cmd, ch: make(chan struct{})}
	go func() {
		err := p.wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) || cmd.ProcessState != nil {
			st := cmd.ProcessState
			if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.sig = int(ws.Signal())
				p.code = 128 + p.sig
			} else {
				p.code = st.ExitCode()
			}
		} else if err != nil {
			p.code = 1
		}
		close(p.ch)
	}()
	return p, nil
}

// resolve finds a container's executable: a busybox applet for its base
// name (as in the image, /bin/ping is busybox), else a path on the host,
// else a lookup in busybox-bin then the host's PATH.
func (s *Server) resolve(name string) (string, error) {
	base := filepath.Base(name)
	if s.kubelet.applets[base] {
		return filepath.Join(s.binDir, base), nil
	}
	if strings.Contains(name, "/") {
		if st, err := os.Stat(name); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return name, nil
		}
		return "", fmt.Errorf("exec: %q: stat %s: no such file or directory", name, name)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func (s *Server) containerEnv(w *podWorker, c *containerRun) []string {
	env := []string{
		"PATH=" + s.binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOSTNAME=" + w.pod.Name,
		"HOME=" + w.dir,
		"KUBERNETES_SERVICE_HOST=10.96.0.1",
		"KUBERNETES_SERVICE_PORT=443",
		"KUBERNETES_SERVICE_PORT_HTTPS=443",
		"KUBERNETES_PORT=tcp://10.96.0.1:443",
		"KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO=tcp",
		"KUBERNETES_PORT_443_TCP_PORT=443",
		"KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1",
	}
	if v := os.Getenv("LANG"); v != "" {
		env = append(env, "LANG="+v)
	}
	for _, e := range c.spec.Env {
		v := e.Value
		if e.ValueFrom != nil {
			v = s.envValueFrom(w, e.ValueFrom)
		}
		env = append(env, e.Name+"="+expandEnv(v, env))
	}
	return env
}

// expandEnv expands $(VAR) references to earlier variables, as kubelet does.
func expandEnv(v string, env []string) string {
	if !strings.Contains(v, "$(") {
		return v
	}
	for _, kv := range env {
		k, val, _ := strings.Cut(kv, "=")
		v = strings.ReplaceAll(v, "$("+k+")", val)
	}
	return v
}

func (s *Server) envValueFrom(w *podWorker, src *corev1.EnvVarSource) string {
	p := w.pod
	switch {
	case src.FieldRef != nil:
		switch src.FieldRef.FieldPath {
		case "metadata.name":
			return p.Name
		case "metadata.namespace":
			return p.Namespace
		case "metadata.uid":
			return string(p.UID)
		case "spec.nodeName":
			return p.Spec.NodeName
		case "spec.serviceAccountName":
			return p.Spec.ServiceAccountName
		case "status.podIP":
			return w.podIP
		case "status.hostIP":
			return w.hostIP
		}
	case src.ConfigMapKeyRef != nil:
		if obj, err := s.store.get(s.reg.must("", "configmaps"), p.Namespace, src.ConfigMapKeyRef.Name); err == nil {
			return obj.(*corev1.ConfigMap).Data[src.ConfigMapKeyRef.Key]
		}
	case src.SecretKeyRef != nil:
		if obj, err := s.store.get(s.reg.must("", "secrets"), p.Namespace, src.SecretKeyRef.Name); err == nil {
			return string(obj.(*corev1.Secret).Data[src.SecretKeyRef.Key])
		}
	}
	return ""
}

// imagePullFacts makes up a stable, plausible size and pull time for an
// image (no image is pulled), so that events read like a real kubelet's.
func imagePullFacts(image string) (int64, time.Duration) {
	sum := sha256.Sum256([]byte(image))
	n := int64(sum[0])<<16 | int64(sum[1])<<8 | int64(sum[2])
	return 3_000_000 + n*5, time.Duration(400+n%2000) * time.Millisecond
}
