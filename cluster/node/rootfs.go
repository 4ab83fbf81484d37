package node

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/labrun/labrun/cluster/busybox"
	"github.com/labrun/labrun/cluster/network"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// A container's root filesystem. Inside labrun's mount namespace
// (network.OwnMounts), a process container's directory, root(), is its /:
// the pod helper pivots into it. The node agent mounts in it, in labrun's
// own namespace and once per container, what every process of the
// container then shares (its main process, each exec, kubectl cp's tar):
//
//   - the host's system directories (systemDirs) through an overlay whose
//     upper layer is the container's own directory of that name, so the
//     container reads the host's programs and libraries and writes (a file
//     copied to /usr/share/nginx/html, a mount point under /etc) stay its
//     own; where no overlay can be made, they are bound read-only;
//   - its volumes, bound at their mountPath (read-only for ConfigMaps,
//     Secrets, the downward API and projected volumes, as a kubelet mounts
//     them, and when the mount says so), the pod's containers binding the
//     same directory;
//   - the busybox applets in /.labrun/bin, first in PATH, and the program
//     that runs them bound at /.labrun/busybox.
//
// Everything else (/tmp, /root, /var, /home, /srv, /data…) is a plain
// directory of the container's, writable and seen by no other container.
// The pod helper adds the host's /dev, /proc and /sys and the pod's
// /etc/hosts, /etc/resolv.conf and /etc/hostname per process. The node
// agent's in-process images read the same files at root() joined with the
// container's path once mountRoot has run.
//
// Mounts are made on a container's first process, not at pod start, so
// pods of in-process images (a 1,000-replica Deployment of nginx) make
// none. They are in labrun's mount namespace only, and removeDir undoes
// them before the pod's directory goes: os.RemoveAll would otherwise reach
// through a bind into a hostPath volume.
//
// A restarted container gets a fresh root (resetRoot), as a runtime
// starts a new container from its image.
//
// Outside labrun's mount namespace containers keep the host's filesystem,
// their volumes being symbolic links in root() (mountVolumes).

// systemDirs are the host's directories every container sees.
var systemDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc"}

// ownDirs are the container's own directories made empty in its root, with
// their modes; dev, proc and sys are the pod helper's mount points.
var ownDirs = map[string]os.FileMode{
	"tmp": 0o777 | os.ModeSticky, "root": 0o700, "var": 0o755, "home": 0o755, "srv": 0o755, "run": 0o755,
	"mnt": 0o755, "opt": 0o755, "media": 0o755, "dev": 0o755, "proc": 0o755, "sys": 0o755,
}

const (
	// appletDir holds the busybox applets inside a container.
	appletDir = "/.labrun/bin"
	// busyboxPath is where the program that runs the applets is bound.
	busyboxPath = "/.labrun/busybox"
	// containerPATH is a container's PATH: the applets, then Docker's
	// default.
	containerPATH = appletDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// rooted says whether containers get a root filesystem of their own.
func rooted() bool { return network.OwnMounts() }

// podFS is what a pod's root filesystems share.
type podFS struct {
	mu   sync.Mutex
	vols map[string]volumePath // by volume name, once mountVolumes succeeded
	// mounted says a container's root has mounts to undo at the end.
	mounted atomic.Bool
}

// volumePath is a materialised volume.
type volumePath struct {
	path     string
	readOnly bool // the kubelet mounts it read-only whatever the mount says
}

// rootFS is a container's root filesystem's state.
type rootFS struct {
	mu    sync.Mutex
	ready bool
}

// readOnlyVolume says whether a kubelet mounts v read-only.
func readOnlyVolume(v corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// setVolumes records the pod's materialised volumes for mountRoot.
func (w *podWorker) setVolumes(vols map[string]volumePath) {
	w.fs.mu.Lock()
	w.fs.vols = vols
	w.fs.mu.Unlock()
}

// mountRoot prepares c's root filesystem, once; an error undoes what it
// mounted, so that a later call starts afresh.
func (c *containerRun) mountRoot() (err error) {
	c.fs.mu.Lock()
	defer c.fs.mu.Unlock()
	if c.fs.ready {
		return nil
	}
	w := c.w
	w.fs.mu.Lock()
	vols := w.fs.vols
	w.fs.mu.Unlock()
	root := c.root()
	w.fs.mounted.Store(true)
	defer func() {
		if err != nil {
			if uerr := unmountUnder(root); uerr != nil {
				err = fmt.Errorf("%w (and undoing its mounts: %v)", err, uerr)
			}
			err = fmt.Errorf("container %s's root filesystem: %w", c.spec.Name, err)
		}
	}()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	for name, mode := range ownDirs {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(p, mode); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			return err
		}
	}
	preMountPoints(root, c.spec.VolumeMounts, vols)
	work := c.workDir()
	for _, d := range systemDirs {
		if err := w.k.a.systemDir(d, root, work); err != nil {
			return err
		}
	}
	if err := w.k.a.applets(root); err != nil {
		return err
	}
	mounts := append([]corev1.VolumeMount(nil), c.spec.VolumeMounts...)
	// A mount inside another's path after it.
	sort.SliceStable(mounts, func(i, j int) bool {
		return depth(mounts[i].MountPath) < depth(mounts[j].MountPath)
	})
	for _, m := range mounts {
		v, ok := vols[m.Name]
		if !ok {
			return fmt.Errorf("volume %q not found", m.Name)
		}
		src := v.path
		if m.SubPath != "" {
			src = filepath.Join(src, filepath.Clean("/"+m.SubPath))
		}
		if err := bindVolume(root, src, m.MountPath, v.readOnly || m.ReadOnly); err != nil {
			if why, ok := w.k.a.noOverlay.Load().(error); ok && errors.Is(err, unix.EROFS) {
				// Under a system directory bound read-only: say why it is.
				err = fmt.Errorf("%w (the host's system directories are read-only in containers: %v)", err, why)
			}
			return fmt.Errorf("volume %q at %s: %w", m.Name, m.MountPath, err)
		}
	}
	c.fs.ready = true
	return nil
}

// preMountPoints makes the mount points of volumes under a system
// directory in its upper layer before the overlay is mounted: an ordinary
// user's namespace may not write into the host's directories (root's)
// through it, so a mount point made afterwards, through the overlay, would
// be refused. What fails here is left to bindVolume to report.
func preMountPoints(root string, mounts []corev1.VolumeMount, vols map[string]volumePath) {
	for _, m := range mounts {
		p := path.Clean("/" + m.MountPath)
		first, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		if target, err := os.Readlink("/" + first); err == nil && !path.IsAbs(target) {
			first = path.Clean(target) // /lib → usr/lib, as in the container
		}
		top, _, _ := strings.Cut(first, "/")
		if !slices.Contains(systemDirs, top) {
			continue
		}
		dst := filepath.Join(root, first, rest)
		v, ok := vols[m.Name]
		if !ok {
			continue
		}
		src := v.path
		if m.SubPath != "" {
			src = filepath.Join(src, filepath.Clean("/"+m.SubPath))
		}
		if st, err := os.Stat(src); err == nil && !st.IsDir() {
			if os.MkdirAll(filepath.Dir(dst), 0o755) == nil {
				if f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o644); err == nil {
					f.Close()
				}
			}
			continue
		}
		_ = os.MkdirAll(dst, 0o755)
	}
}

func depth(p string) int { return strings.Count(path.Clean("/"+p), "/") }

// systemDir gives root the host's directory /d: the same symbolic link
// where the host has one (/bin → usr/bin), else an overlay over it, else a
// read-only bind.
func (a *Agent) systemDir(d, root, work string) error {
	host := "/" + d
	st, err := os.Lstat(host)
	if err != nil {
		return nil // the host has none: neither has the container
	}
	dst := filepath.Join(root, d)
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(host)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(dst); err == nil {
			return nil
		}
		return os.Symlink(target, dst)
	}
	if !st.IsDir() {
		return nil
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if a.noOverlay.Load() == nil {
		wd := filepath.Join(work, d)
		if err := os.MkdirAll(wd, 0o700); err != nil {
			return err
		}
		err := overlay(host, dst, wd, dst)
		if err == nil {
			return nil
		}
		a.noOverlay.Store(err)
		a.logf("node %s: containers see the host's system directories read-only: %v", a.opts.Name, err)
	}
	if err := unix.Mount(host, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", host, err)
	}
	return remountReadOnly(dst)
}

// overlay mounts at target the overlay of lower and upper (an overlay may
// sit on its own upper directory: from outside labrun's namespace the
// container's directory then shows what the container changed).
func overlay(lower, upper, work, target string) error {
	for _, p := range []string{lower, upper, work} {
		if strings.ContainsAny(p, ",:") {
			return fmt.Errorf("overlay: %q has a comma or colon", p)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	err := unix.Mount("overlay", target, "overlay", 0, opts)
	if err != nil && network.CurrentMode() == network.User {
		// In a user namespace the overlay keeps its attributes in user.*
		// extended attributes (Linux 5.11+).
		err = unix.Mount("overlay", target, "overlay", 0, opts+",userxattr")
	}
	if err != nil {
		return fmt.Errorf("overlay on %s: %w", lower, err)
	}
	return nil
}

// applets puts the busybox applets in root's appletDir, bound to the
// program the node's applet directory links to.
func (a *Agent) applets(root string) error {
	if a.opts.BinDir == "" {
		return nil
	}
	exe, err := filepath.EvalSymlinks(filepath.Join(a.opts.BinDir, busybox.Applets()[0]))
	if err != nil {
		return fmt.Errorf("busybox applets: %w", err)
	}
	dir := filepath.Join(root, appletDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bb := filepath.Join(root, busyboxPath)
	f, err := os.OpenFile(bb, os.O_CREATE|os.O_RDONLY, 0o755)
	if err != nil {
		return err
	}
	f.Close()
	if err := unix.Mount(exe, bb, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind busybox %s: %w", exe, err)
	}
	for _, ap := range busybox.Applets() {
		link := filepath.Join(dir, ap)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink("../busybox", link); err != nil {
			return err
		}
	}
	return nil
}

// bindVolume binds src at mountPath inside root, a path that symbolic
// links in the container's tree cannot lead out of.
func bindVolume(root, src, mountPath string, readOnly bool) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	clean := path.Clean("/" + mountPath)
	if clean == "/" {
		return errors.New("a volume cannot be mounted at /")
	}
	dir := clean
	if !st.IsDir() {
		dir = path.Dir(clean)
	}
	if err := securejoin.MkdirAll(root, dir, 0o755); err != nil {
		return err
	}
	dst, err := securejoin.SecureJoin(root, clean)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if readOnly {
		return remountReadOnly(dst)
	}
	return nil
}

// remountReadOnly makes the bind mount at p read-only, keeping the flags
// of the mount it came from (a user namespace may not drop them).
func remountReadOnly(p string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range [][2]uintptr{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f[0] != 0 {
			flags |= f[1]
		}
	}
	if err := unix.Mount("", p, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", p, err)
	}
	return nil
}

// resetRoot gives a restarting container a fresh root, as a runtime makes
// a new container from its image: what it wrote goes, its volumes stay.
func (c *containerRun) resetRoot() error {
	c.fs.mu.Lock()
	defer c.fs.mu.Unlock()
	if !c.fs.ready {
		return nil
	}
	root := c.root()
	if err := unmountUnder(root); err != nil {
		return fmt.Errorf("container %s's root filesystem: %w", c.spec.Name, err)
	}
	c.fs.ready = false
	work := c.workDir()
	openWorkDirs(work)
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	return os.RemoveAll(root)
}

// workDir holds the work directories of the container's overlays.
func (c *containerRun) workDir() string { return filepath.Join(c.w.dir, ".labrun-work", c.spec.Name) }

// openWorkDirs makes the directories under an overlay's work directory
// removable: it holds one of mode 0, which an ordinary user's namespace
// (no CAP_DAC_OVERRIDE over root-owned files, and none at all before it
// had) may not empty.
func openWorkDirs(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
}

// removeDir removes the pod's directory once the mounts in it are undone;
// while one stays, the directory stays too (and the failure is logged),
// since removing through a bind would delete a volume's files.
func (w *podWorker) removeDir() {
	if w.fs.mounted.Load() {
		if err := unmountUnder(w.dir); err != nil {
			w.k.a.logf("pod %s/%s: %v; its directory %s stays", w.pod.Namespace, w.pod.Name, err, w.dir)
			return
		}
	}
	openWorkDirs(filepath.Join(w.dir, ".labrun-work"))
	_ = os.RemoveAll(w.dir)
}

// unmountUnder detaches every mount at or under dir, deepest first, and
// says if one remains.
func unmountUnder(dir string) error {
	mps, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	for _, mp := range mps {
		// EINVAL: gone with a mount above it.
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", mp, err)
		}
	}
	if left, err := mountsUnder(dir); err != nil || len(left) > 0 {
		return fmt.Errorf("mounts left under %s: %q %v", dir, left, err)
	}
	return nil
}

// mountsUnder lists the mount points at or under dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return depth(out[i]) > depth(out[j]) })
	return out, nil
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				n = n*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(n)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
