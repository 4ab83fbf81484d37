package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labrun/labrun/cluster/builtin/builtintest"
	"github.com/labrun/labrun/cluster/upstream/upstreamtest"
)

// TestContainerFilesystem: inside labrun's namespace each container has a
// root filesystem of its own, as on a real node: kubectl cp and exec see
// the same /tmp, which no other container sees (not even one of the same
// pod), nor the host; volumes are at their mount paths (an emptyDir shared
// by a pod's containers, a ConfigMap read-only, a hostPath shared by pods
// on one node, one under /usr); the host's programs and /etc are there,
// and what a container writes over them stays its own.
func TestContainerFilesystem(t *testing.T) {
	if !builtintest.InNamespace() {
		why := "no network namespace (and so no mount namespace) could be made here: containers share the host's filesystem"
		if os.Getenv("LABRUN_NETNS_OFF") != "" {
			t.Skip("LABRUN_NETNS_OFF is set: " + why) // asked for, under CI too
		}
		upstreamtest.SkipOrFail(t, why)
	}
	k := newKube(t)
	// Unique names, so that a file the host happens to have cannot pass
	// for the container's.
	mark := "labrun-fs-" + k.ns
	hostData := "/srv/" + mark
	k.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: "hello from a configmap\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  nodeName: node2
  containers:
  - name: one
    image: busybox
    command: [sleep, "3600"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: cfg, mountPath: /etc/config}
    - {name: html, mountPath: /usr/share/nginx/html}
    - {name: host, mountPath: /data}
  - name: two
    image: busybox
    command: [sleep, "3600"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: html, emptyDir: {}}
  - {name: cfg, configMap: {name: cfg}}
  - {name: host, hostPath: {path: ` + hostData + `}}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  nodeName: node2
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /data}]
  volumes:
  - {name: host, hostPath: {path: ` + hostData + `}}
---
apiVersion: v1
kind: Pod
metadata: {name: h}
spec:
  hostNetwork: true
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
`)
	k.waitReady("a", "b", "h")

	exec := func(pod, container, script string) (string, error) {
		return k.runOut("", false, "exec", pod, "-c", container, "--", "sh", "-c", script)
	}
	want := func(what, pod, container, script, want string) {
		t.Helper()
		out, err := exec(pod, container, script)
		if err != nil || out != want {
			t.Errorf("%s: %s/%s `%s`: %q, %v; want %q", what, pod, container, script, out, err, want)
		}
	}
	fails := func(what, pod, container, script, says string) {
		t.Helper()
		out, err := exec(pod, container, script)
		if err == nil || !strings.Contains(out, says) {
			t.Errorf("%s: %s/%s `%s` succeeded or said no %q: %q, %v", what, pod, container, script, says, out, err)
		}
	}

	// kubectl cp in, exec cat, cp back out.
	src := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(src, []byte("copied in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k.must("cp", src, "a:/tmp/"+mark, "-c", "one")
	want("cp then cat", "a", "one", "cat /tmp/"+mark, "copied in\n")
	back := filepath.Join(t.TempDir(), "back.txt")
	k.must("cp", "a:/tmp/"+mark, back, "-c", "one")
	if b, err := os.ReadFile(back); err != nil || string(b) != "copied in\n" {
		t.Errorf("cp back out: %q, %v", b, err)
	}
	fails("another container of the pod", "a", "two", "cat /tmp/"+mark, "No such file or directory")
	fails("another pod", "b", "main", "cat /tmp/"+mark, "No such file or directory")
	fails("a hostNetwork pod", "h", "main", "cat /tmp/"+mark, "No such file or directory")
	// A hostNetwork pod has the node's /etc/hosts, which names the nodes.
	want("a hostNetwork pod's /etc/hosts", "h", "main", "grep -c 'node2$' /etc/hosts", "1\n")
	if _, err := os.Stat("/tmp/" + mark); !os.IsNotExist(err) {
		t.Errorf("the host's /tmp has the container's file: %v", err)
	}

	// A file written by one exec is there for the next.
	k.must("exec", "a", "-c", "one", "--", "sh", "-c", "echo written > /root/f")
	want("echo then cat", "a", "one", "cat /root/f; pwd; echo $HOME; hostname", "written\n/\n/root\na\n")
	want("the modes of /tmp and /root", "a", "one", "stat -c %a /tmp /root", "1777\n700\n")

	// Volumes at their mount paths.
	k.must("exec", "a", "-c", "two", "--", "sh", "-c", "echo shared > /shared/s")
	want("emptyDir shared by the pod's containers", "a", "one", "cat /shared/s", "shared\n")
	want("ConfigMap", "a", "one", "cat /etc/config/greeting", "hello from a configmap\n")
	fails("ConfigMap read-only", "a", "one", "echo x > /etc/config/greeting", "Read-only file system")
	k.must("exec", "a", "-c", "one", "--", "sh", "-c", "echo on the node > /data/h")
	want("hostPath shared by pods of a node", "b", "main", "cat /data/h", "on the node\n")
	if _, err := os.Stat(hostData); !os.IsNotExist(err) {
		t.Errorf("the hostPath volume %s is the host's own: %v", hostData, err)
	}
	want("a volume under /usr", "a", "one", "echo page > /usr/share/nginx/html/index.html; cat /usr/share/nginx/html/index.html", "page\n")

	// The host's programs and /etc, the pod's /etc/hosts; writes stay the
	// container's.
	want("/etc/hosts", "a", "one", "tail -n 1 /etc/hosts | cut -f 2", "a\n")
	if _, err := os.Stat("/etc/os-release"); err == nil {
		want("the host's /etc", "a", "one", "test -s /etc/os-release && echo yes", "yes\n")
	}
	if os.Geteuid() == 0 {
		// As an ordinary user, containers' processes are that user, and
		// the host's /usr and /etc are root's.
		k.must("exec", "a", "-c", "one", "--", "sh", "-c", "echo mine > /usr/local/bin/"+mark+"; echo mine > /etc/"+mark)
		want("a write over /usr and /etc", "a", "one", "cat /usr/local/bin/"+mark+" /etc/"+mark, "mine\nmine\n")
		fails("another container's /usr", "a", "two", "cat /usr/local/bin/"+mark, "No such file or directory")
		for _, p := range []string{"/usr/local/bin/" + mark, "/etc/" + mark} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("the host has %s: %v", p, err)
			}
		}
	}
	// The host's own directories are not the container's: this test's
	// working directory is somewhere on the host.
	if wd, err := os.Getwd(); err == nil {
		top := "/" + strings.Split(strings.TrimPrefix(wd, "/"), "/")[0]
		switch top {
		case "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/tmp", "/root", "/home", "/var", "/srv", "/run", "/mnt", "/opt":
		default:
			fails("the host's "+top, "a", "one", "ls -d "+top, "No such file")
		}
	}

	// The node agent removes a deleted pod's files, mounts and all, and
	// leaves the hostPath volume.
	k.must("delete", "pod", "a", "--wait=true", "--timeout=90s")
	want("hostPath after its pod went", "b", "main", "cat /data/h", "on the node\n")
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := mountsOf(t, k.ns+"_a_")
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("mounts left after pod a went: %q", left)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	k.must("delete", "pod", "b", "h", "--wait=false")
}

// TestRestartFreshRoot: a restarted container starts from its image again,
// as a runtime makes a new container: what it wrote is gone, its volumes
// keep theirs.
func TestRestartFreshRoot(t *testing.T) {
	if !builtintest.InNamespace() {
		why := "no network namespace (and so no mount namespace) could be made here: containers share the host's filesystem"
		if os.Getenv("LABRUN_NETNS_OFF") != "" {
			t.Skip("LABRUN_NETNS_OFF is set: " + why)
		}
		upstreamtest.SkipOrFail(t, why)
	}
	k := newKube(t)
	k.apply(`apiVersion: v1
kind: Pod
metadata: {name: r}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "touch /tmp/from-start; while [ ! -e /tmp/stop ]; do sleep 0.2; done; exit 1"]
    volumeMounts: [{name: keep, mountPath: /keep}]
  volumes: [{name: keep, emptyDir: {}}]
`)
	k.waitReady("r")
	k.must("exec", "r", "--", "sh", "-c", "echo kept > /keep/f; echo lost > /tmp/f; touch /tmp/stop")
	eventually(t, 60*time.Second, func() string {
		out, _ := k.run("", "get", "pod", "r", "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}")
		if out != "1 true" {
			return "not restarted and ready: " + out
		}
		return ""
	})
	if got, err := k.runOut("", false, "exec", "r", "--", "sh", "-c", "ls /tmp; cat /keep/f"); err != nil || got != "from-start\nkept\n" {
		t.Errorf("after the restart: %q, %v; want /tmp as the command left it and the volume's file", got, err)
	}
}

// mountsOf lists this namespace's mount points whose path has part in it.
func mountsOf(t *testing.T, part string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.Contains(f[4], part) {
			out = append(out, f[4])
		}
	}
	return out
}
