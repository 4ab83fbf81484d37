package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labrun/labrun/cluster/images"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// kubelet runs the pods bound to its node: one worker per pod, each
// container a local process group (or a built-in behaviour from the image
// catalogue), its output the container's log.
type kubelet struct {
	a   *Agent
	dir string

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	closed  bool
	wg      sync.WaitGroup

	ipMu   sync.Mutex
	cidr   *net.IPNet
	nextIP uint32
	used   map[string]bool
}

func newKubelet(a *Agent, dir string) *kubelet {
	return &kubelet{a: a, dir: dir, workers: map[types.UID]*podWorker{}, used: map[string]bool{}}
}

// watch follows the pods bound to this node with an informer (a field
// selector on spec.nodeName) until ctx ends.
func (k *kubelet) watch(ctx context.Context) {
	f := informers.NewSharedInformerFactoryWithOptions(k.a.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.a.opts.Name).String()
		}))
	inf := f.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { k.observe(ctx, o) },
		UpdateFunc: func(_, o any) { k.observe(ctx, o) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if p, ok := o.(*corev1.Pod); ok {
				if w := k.worker(p.UID); w != nil {
					w.terminate(0, false)
				}
			}
		},
	})
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}

// observe starts a worker for a new pod, or the stop of a deleted one.
func (k *kubelet) observe(ctx context.Context, o any) {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	w := k.worker(pod.UID)
	if pod.DeletionTimestamp != nil {
		if w == nil {
			k.remove(ctx, pod)
			return
		}
		w.terminate(time.Duration(deref64(pod.DeletionGracePeriodSeconds, 0))*time.Second, true)
		return
	}
	if w != nil {
		w.addEphemeral(pod.Spec.EphemeralContainers)
		return
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || k.workers[pod.UID] != nil {
		return
	}
	w = newPodWorker(k, pod)
	k.workers[pod.UID] = w
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		w.run()
	}()
}

// remove deletes a pod object whose containers have stopped, as the
// kubelet's status manager does: grace 0, only this very pod.
func (k *kubelet) remove(ctx context.Context, pod *corev1.Pod) {
	uid := pod.UID
	err := k.a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		k.a.logf("pod %s/%s: delete: %v", pod.Namespace, pod.Name, err)
	}
}

func (k *kubelet) worker(uid types.UID) *podWorker {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.workers[uid]
}

// podByName finds a running pod's worker by namespace and name (the
// kubelet API names pods so); uid, if given, must match.
func (k *kubelet) podByName(ns, name string, uid types.UID) *podWorker {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, w := range k.workers {
		if w.pod.Namespace == ns && w.pod.Name == name && (uid == "" || uid == w.pod.UID) {
			return w
		}
	}
	return nil
}

func (k *kubelet) forget(uid types.UID, ip string) {
	k.mu.Lock()
	delete(k.workers, uid)
	k.mu.Unlock()
	k.ipMu.Lock()
	delete(k.used, ip)
	k.ipMu.Unlock()
}

// shutdown stops every container (TERM, then KILL after a short grace) and
// waits for the workers; the pod objects stay.
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
		w.detach()
	}
	done := make(chan struct{})
	go func() { k.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, w := range ws {
			w.killAll()
		}
		<-done
	}
}

// allocIP gives a pod an address from the node's podCIDR (as the
// controller manager allocated it), the next free one after .1.
func (k *kubelet) allocIP(ctx context.Context) string {
	k.ipMu.Lock()
	defer k.ipMu.Unlock()
	if k.cidr == nil {
		cidr := k.a.opts.FallbackPodCIDR
		if n, err := k.a.client.CoreV1().Nodes().Get(ctx, k.a.opts.Name, metav1.GetOptions{}); err == nil && n.Spec.PodCIDR != "" {
			cidr = n.Spec.PodCIDR
		}
		_, ipn, err := net.ParseCIDR(cidr)
		if err != nil {
			_, ipn, _ = net.ParseCIDR("10.244.0.0/24")
		}
		k.cidr = ipn
		k.nextIP = 1
	}
	base := k.cidr.IP.To4()
	ones, bits := k.cidr.Mask.Size()
	size := uint32(1) << (bits - ones)
	b := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for range size {
		k.nextIP++
		if k.nextIP >= size-1 {
			k.nextIP = 2
		}
		v := b + k.nextIP
		ip := net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String()
		if !k.used[ip] {
			k.used[ip] = true
			return ip
		}
	}
	return net.IPv4(base[0], base[1], base[2], 2).String()
}

// podWorker drives one pod through its life on its node.
type podWorker struct {
	k       *kubelet
	pod     *corev1.Pod // as first seen; the spec does not change
	dir     string
	podIP   string
	hostIP  string
	started metav1.Time
	ctx     context.Context // ends when the agent closes
	cancel  context.CancelFunc

	stopOnce sync.Once
	stop     chan struct{} // closed when the pod is being deleted
	graceMu  sync.Mutex
	deadline time.Time
	delete   bool // delete the pod object once stopped
	done     chan struct{}

	mu         sync.Mutex
	containers []*containerRun
	// ephemeral are the containers `kubectl debug` adds to the running
	// pod: run once each, never restarted, no part of its phase or
	// readiness; ephWG waits for them.
	ephemeral  []*containerRun
	ephWG      sync.WaitGroup
	initDone   bool
	phase      corev1.PodPhase
	conds      map[corev1.PodConditionType]*corev1.PodCondition
	syncMu     sync.Mutex
	isFinished bool
	fs         podFS
}

func newPodWorker(k *kubelet, pod *corev1.Pod) *podWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &podWorker{
		k: k, pod: pod.DeepCopy(),
		dir:    filepath.Join(k.dir, pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		phase:  corev1.PodPending,
		conds:  map[corev1.PodConditionType]*corev1.PodCondition{},
		hostIP: k.a.opts.Address,
		ctx:    ctx, cancel: cancel,
	}
	if pod.Spec.HostNetwork {
		w.podIP = w.hostIP
	}
	for _, c := range pod.Spec.InitContainers {
		w.containers = append(w.containers, &containerRun{w: w, spec: c, init: true})
	}
	for _, c := range pod.Spec.Containers {
		w.containers = append(w.containers, &containerRun{w: w, spec: c})
	}
	return w
}

func (w *podWorker) container(name string) *containerRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.allLocked() {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

// terminate asks the pod's containers to stop within grace; del says the
// pod object goes once they have.
func (w *podWorker) terminate(grace time.Duration, del bool) {
	w.graceMu.Lock()
	dl := time.Now().Add(grace)
	if w.deadline.IsZero() || dl.Before(w.deadline) {
		w.deadline = dl
	}
	w.delete = w.delete || del
	w.graceMu.Unlock()
	w.stopOnce.Do(func() { close(w.stop) })
	// A shorter grace on a second delete must cut the wait short.
	w.mu.Lock()
	cs := w.allLocked()
	w.mu.Unlock()
	for _, c := range cs {
		c.regrace()
	}
}

// detach cuts the worker from the API: the agent is closing.
func (w *podWorker) detach() { w.cancel() }

func (w *podWorker) graceDeadline() time.Time {
	w.graceMu.Lock()
	defer w.graceMu.Unlock()
	return w.deadline
}

// allLocked is every container of the pod, ephemeral ones last.
func (w *podWorker) allLocked() []*containerRun {
	return append(append([]*containerRun(nil), w.containers...), w.ephemeral...)
}

// addEphemeral starts the ephemeral containers in specs not started yet,
// as the kubelet does once the pod's spec has them; a pod that has
// finished starts none.
func (w *podWorker) addEphemeral(specs []corev1.EphemeralContainer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range specs {
		if w.isFinished || !w.initDone || w.stopping() {
			return
		}
		known := false
		for _, c := range w.ephemeral {
			known = known || c.spec.Name == e.Name
		}
		if known {
			continue
		}
		c := &containerRun{w: w, spec: corev1.Container(e.EphemeralContainerCommon), ephemeral: true,
			state: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
		w.ephemeral = append(w.ephemeral, c)
		w.ephWG.Add(1)
		go func() {
			defer w.ephWG.Done()
			for _, d := range []string{"tmp", "etc", "var", "root"} {
				if err := os.MkdirAll(filepath.Join(c.root(), d), 0o755); err != nil {
					w.k.a.logf("pod %s/%s: %v", w.pod.Namespace, w.pod.Name, err)
				}
			}
			c.runOnce()
		}()
	}
}

func (w *podWorker) killAll() {
	w.mu.Lock()
	cs := w.allLocked()
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
// in parallel, then, once stopped, the deletion of the pod object.
func (w *podWorker) run() {
	k := w.k
	defer close(w.done)
	defer func() { k.forget(w.pod.UID, w.podIP) }()
	defer w.removeDir()
	if w.podIP == "" {
		w.podIP = k.allocIP(w.ctx)
	}
	w.started = metav1.NewTime(time.Now().Truncate(time.Second))
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		k.a.logf("pod %s/%s: %v", w.pod.Namespace, w.pod.Name, err)
	}
	w.mu.Lock()
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
	if err := w.mountVolumes(); err != nil {
		start, told := time.Now(), false
		// A real kubelet retries; the pod stays ContainerCreating until
		// the volume's source exists (often the kube-root-ca.crt
		// ConfigMap of a namespace created a moment ago).
		for d := 100 * time.Millisecond; !w.stopping(); d = min(2*d, 2*time.Second) {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.stop:
			}
			t.Stop()
			if err = w.mountVolumes(); err == nil {
				break
			}
			if !told && time.Since(start) > time.Second {
				told = true
				w.event(corev1.EventTypeWarning, "FailedMount", err.Error(), "")
			}
		}
	}
	w.mu.Lock()
	w.setCond("PodReadyToStartContainers", true, "", "")
	w.mu.Unlock()

	ok := !w.stopping()
	for _, c := range w.containers {
		if !ok {
			break
		}
		if c.init && !c.runInit() {
			ok = false
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
	eph := append([]*containerRun(nil), w.ephemeral...)
	w.mu.Unlock()
	// The pod is done: its debug containers go with it (one may still be
	// starting, so the kill repeats until all have ended).
	ephDone := make(chan struct{})
	go func() { w.ephWG.Wait(); close(ephDone) }()
	for ended := false; !ended; {
		for _, c := range eph {
			c.signal(syscall.SIGKILL)
		}
		select {
		case <-ephDone:
			ended = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	w.finalPhase()
	w.sync()
	if !w.stopping() {
		// A finished pod (Succeeded/Failed) stays until it is deleted.
		select {
		case <-w.stop:
		case <-w.ctx.Done():
		}
	}
	w.graceMu.Lock()
	del := w.delete
	w.graceMu.Unlock()
	if del && w.ctx.Err() == nil {
		k.remove(w.ctx, w.pod)
	}
}

// finalPhase sets Succeeded or Failed when no container will run again.
func (w *podWorker) finalPhase() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping() {
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
		w.updateReadyLocked()
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

// sync writes the pod's status as the worker sees it now, with a strategic
// merge patch (conditions merge by type, so the scheduler's PodScheduled
// stays) that applies only to this pod's UID.
func (w *podWorker) sync() {
	if w.ctx.Err() != nil {
		return
	}
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
		QOSClass:  qosClass(w.pod),
	}
	for _, t := range []corev1.PodConditionType{"PodReadyToStartContainers", corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady} {
		if c := w.conds[t]; c != nil {
			st.Conditions = append(st.Conditions, *c)
		}
	}
	for _, c := range w.ephemeral {
		cs := c.statusLocked()
		cs.Ready = false // an ephemeral container is never ready
		st.EphemeralContainerStatuses = append(st.EphemeralContainerStatuses, cs)
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
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": w.pod.UID},
		"status":   st,
	})
	if err != nil {
		w.k.a.logf("pod %s/%s: status: %v", w.pod.Namespace, w.pod.Name, err)
		return
	}
	_, err = w.k.a.client.CoreV1().Pods(w.pod.Namespace).Patch(w.ctx, w.pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) && w.ctx.Err() == nil {
		w.k.a.logf("pod %s/%s: status: %v", w.pod.Namespace, w.pod.Name, err)
	}
}

// qosClass is the pod's QoS class as the API server computed it, or as
// derived from its requests and limits.
func qosClass(p *corev1.Pod) corev1.PodQOSClass {
	if p.Status.QOSClass != "" {
		return p.Status.QOSClass
	}
	return corev1.PodQOSBestEffort
}

func (w *podWorker) event(typ, reason, msg, fieldPath string) {
	ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: w.pod.Namespace, Name: w.pod.Name, UID: w.pod.UID, FieldPath: fieldPath}
	w.k.a.recorder.Event(ref, typ, reason, msg)
}

// containerRun is one container of a pod and its successive instances.
type containerRun struct {
	w         *podWorker
	spec      corev1.Container
	init      bool
	ephemeral bool // added by kubectl debug: no probes, no restarts

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
	env       []string // the running instance's environment, for exec
	fs        rootFS
}

func (c *containerRun) logs() (*logBuf, *logBuf) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.cur, c.prev
}

func (c *containerRun) instance() instance {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.inst
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
		cs.Started = ptr(c.started)
	}
	return cs
}

func (c *containerRun) signal(sig syscall.Signal) {
	if inst := c.instance(); inst != nil {
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
	if !c.pull() {
		return false
	}
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
	if !c.pull() {
		return
	}
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

// pull fails as containerd does for an image whose tag does not exist
// (images.Pull knows which), with ErrImagePull then ImagePullBackOff and
// the kubelet's doubling back-off (10 s to 5 min) between attempts, until
// the pod is deleted: false then. Any other image is there at once.
func (c *containerRun) pull() bool {
	err := images.Pull(c.spec.Image)
	if err == nil {
		return true
	}
	w, img := c.w, c.spec.Image
	ref := normalizeImage(img)
	msg := fmt.Sprintf("failed to pull and unpack image %q: %v", ref, err)
	if errors.Is(err, images.ErrNotFound) {
		msg = fmt.Sprintf("rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found", ref, ref, ref)
	}
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-w.stop:
			return false
		}
	}
	setWaiting := func(reason, message string) {
		w.mu.Lock()
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
		w.mu.Unlock()
		w.sync()
	}
	for d := 10 * time.Second; ; d = min(2*d, 5*time.Minute) {
		w.event(corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", img), c.fieldPath())
		w.event(corev1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", img, msg), c.fieldPath())
		w.event(corev1.EventTypeWarning, "Failed", "Error: ErrImagePull", c.fieldPath())
		setWaiting("ErrImagePull", msg)
		// The kubelet's next sync of the pod finds the pull backing off.
		if !wait(time.Second) {
			return false
		}
		w.event(corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", img), c.fieldPath())
		w.event(corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff", c.fieldPath())
		setWaiting("ImagePullBackOff", fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", img, msg))
		if !wait(d) {
			return false
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
	d = min(d, 5*time.Minute)
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
	if c.ephemeral {
		return fmt.Sprintf("spec.ephemeralContainers{%s}", c.spec.Name)
	}
	if c.init {
		return fmt.Sprintf("spec.initContainers{%s}", c.spec.Name)
	}
	return fmt.Sprintf("spec.containers{%s}", c.spec.Name)
}

// runOnce starts one instance, waits for it (or for the pod's deletion,
// then TERM and, at the grace deadline, KILL) and records how it ended.
func (c *containerRun) runOnce() int {
	w := c.w
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
	firstOutput := logs.notify // closed at the instance's first output
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	inst, err := w.startContainer(c, logs)
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
	hasReadiness := c.spec.ReadinessProbe != nil
	c.ready = !c.init && !c.ephemeral && !hasReadiness && c.spec.StartupProbe == nil
	var listening <-chan struct{}
	if b, ok := inst.(*builtinInstance); ok && c.ready && b.listening != nil {
		// A workshop image is Ready once it answers on its ports, not a
		// moment before, so that the first connection a Service or a
		// curl to the pod's IP makes is never refused.
		c.ready, listening = false, b.listening
	} else if _, ok := inst.(*procInstance); ok && c.ready {
		// A kubelet reports a container Ready when its next relist sees
		// it running (up to a second later), by when a program has
		// written its first lines; ours would be Ready in the same breath
		// as the start, before `kubectl logs` has anything to show. Ready
		// a moment after it has written something, or after a silent
		// while; never if it has ended by then: a relist sees a program
		// that printed and ended at once (echo, curl URL) as ended, and
		// kubectl run -it shows its log rather than attach after it.
		ch := make(chan struct{})
		go func() {
			select {
			case <-firstOutput:
				time.Sleep(relistLag)
			case <-time.After(relistSilent):
			}
			if !ended(inst) {
				close(ch)
			}
		}()
		c.ready, listening = false, ch
	}
	c.started = c.spec.StartupProbe == nil
	if !c.init && !c.ephemeral && w.phase == corev1.PodPending && w.initDone {
		w.phase = corev1.PodRunning
	}
	w.updateReadyLocked()
	w.mu.Unlock()
	w.event(corev1.EventTypeNormal, "Created", "Created container: "+c.spec.Name, c.fieldPath())
	w.event(corev1.EventTypeNormal, "Started", "Started container "+c.spec.Name, c.fieldPath())
	w.sync()
	probeCtx, stopProbes := context.WithCancel(w.ctx)
	if !c.init && !c.ephemeral {
		go c.probe(probeCtx, inst)
	}
	if listening != nil {
		go func() {
			select {
			case <-listening:
			case <-probeCtx.Done():
			}
			if probeCtx.Err() == nil {
				c.setProbed(ptr(true), nil)
			}
		}()
	}

	select {
	case <-inst.done():
	case <-w.stop:
		w.event(corev1.EventTypeNormal, "Killing", fmt.Sprintf("Stopping container %s", c.spec.Name), c.fieldPath())
		c.preStop(inst)
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
	stopProbes()
	logs.close()
	code, _ := inst.result()
	w.mu.Lock()
	c.inst = nil
	term := &corev1.ContainerStateTerminated{ExitCode: int32(code), StartedAt: c.state.Running.StartedAt, FinishedAt: metav1.Now(), ContainerID: "containerd://" + c.id}
	if code == 0 {
		term.Reason = "Completed"
	} else {
		term.Reason = "Error"
	}
	c.state = corev1.ContainerState{Terminated: term}
	c.ready = false
	c.started = false
	w.updateReadyLocked()
	w.mu.Unlock()
	w.sync()
	return code
}

// A process container is reported Ready as a kubelet's relist (every
// second) would see it: relistLag after its first output if it still runs
// then, or after relistSilent if it printed nothing and still runs. A
// program that prints as it starts (curl URL) does so some 50–400 ms after
// the start on a loaded machine: a silent wait shorter than that would
// report it Ready in the middle of its run, kubectl run -it would attach
// just after its output, and show nothing.
const (
	relistLag    = 100 * time.Millisecond
	relistSilent = 500 * time.Millisecond
)

func (c *containerRun) stateAsLast() corev1.ContainerState {
	if c.state.Terminated != nil {
		return corev1.ContainerState{Terminated: c.state.Terminated}
	}
	return c.lastState
}

// setProbed records a probe's verdict; it syncs the status when it changed.
func (c *containerRun) setProbed(ready, started *bool) {
	w := c.w
	w.mu.Lock()
	changed := false
	if ready != nil && c.ready != *ready && c.state.Running != nil {
		c.ready = *ready
		changed = true
	}
	if started != nil && c.started != *started && c.state.Running != nil {
		c.started = *started
		changed = true
	}
	if changed {
		w.updateReadyLocked()
	}
	w.mu.Unlock()
	if changed {
		w.sync()
	}
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
	last := img[strings.LastIndexByte(img, '/')+1:]
	if !strings.Contains(last, ":") && !strings.Contains(img, "@") {
		name += ":latest"
	}
	return name
}

// imagePullFacts makes up a stable, plausible size and pull time for an
// image (no image is pulled), so that events read like a real kubelet's.
func imagePullFacts(image string) (int64, time.Duration) {
	sum := sha256.Sum256([]byte(image))
	n := int64(sum[0])<<16 | int64(sum[1])<<8 | int64(sum[2])
	return 3_000_000 + n*5, time.Duration(400+n%2000) * time.Millisecond
}

func deref64(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}
