package fake

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// expect is what one output stream must be: exactly text, or a match of
// the regular expression text.
type expect struct {
	text string
	re   bool
}

func is(s string) expect    { return expect{text: s} }
func like(re string) expect { return expect{text: re, re: true} }
func (e expect) String() string {
	if e.re {
		return "/" + e.text + "/"
	}
	return strconv.Quote(e.text)
}

func (e expect) matches(s string) bool {
	if e.re {
		return regexp.MustCompile(e.text).MatchString(s)
	}
	return s == e.text
}

// step is one kubectl command line and what a real cluster makes it
// print. The zero stderr and code are an empty stderr and exit 0.
type step struct {
	args  []string
	stdin string
	env   []string
	out   expect
	err   expect
	code  int
}

// runSteps runs the steps in order; a failed step fails the test but the
// next ones still run (they seldom depend on its output alone).
func runSteps(t *testing.T, k *kubectl, steps []step) {
	t.Helper()
	for _, st := range steps {
		out, errs, code := k.runIn(st.stdin, st.env, st.args...)
		if code != st.code || !st.out.matches(out) || !st.err.matches(errs) {
			t.Errorf("kubectl %s:\n got exit %d\n  stdout %q\n  stderr %q\nwant exit %d\n  stdout %s\n  stderr %s",
				strings.Join(st.args, " "), code, out, errs, st.code, st.out, st.err)
		}
	}
}

// kubectlMinor is the minor version a kubectl of kubectlVersions speaks;
// the dispatcher picks the one matching the server (v1.32).
func kubectlMinor(version string) int {
	if version == "" {
		return 32
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(version, "1."))
	return n
}

// age is a kubectl AGE cell of a young object.
const ageRE = `\d+s`

// TestCompat runs the core commands labs call (FORMAT.md, "What labs
// call"; all but exec, attach and port-forward) with every kubectl the
// machine offers, and checks what they print against what a real cluster
// makes them print: table headers and cells, the created / configured /
// scaled / exposed / deleted lines, error lines and exit codes.
func TestCompat(t *testing.T) {
	forEachKubectl(t, func(t *testing.T, s *Server, k *kubectl, version string) {
		minor := kubectlMinor(version)
		t.Run("read", func(t *testing.T) { runSteps(t, k, readSteps(minor, version)) })
		t.Run("create", func(t *testing.T) { runSteps(t, k, createSteps()) })
		t.Run("get", func(t *testing.T) { runSteps(t, k, getSteps()) })
		t.Run("apply", func(t *testing.T) { runSteps(t, k, applySteps()) })
		t.Run("run-logs", func(t *testing.T) { runLogs(t, s, k, minor) })
		t.Run("label-annotate", func(t *testing.T) { runSteps(t, k, labelSteps(minor)) })
		t.Run("rollout", func(t *testing.T) { runSteps(t, k, rolloutSteps()) })
		t.Run("patch-edit", func(t *testing.T) { runSteps(t, k, patchEditSteps()) })
		t.Run("wait-delete", func(t *testing.T) { waitDelete(t, s, k) })
		t.Run("delete", func(t *testing.T) { deleteAll(t, s, k) })
	})
}

// readSteps need only the seeded cluster: nodes, namespaces, discovery,
// version, and the errors of reads.
func readSteps(minor int, version string) []step {
	versionOut := like(`^Client Version: v1\.` + strconv.Itoa(minor) + `\.\d+\nKustomize Version: v\S+\nServer Version: v1\.32\.4\n$`)
	versionErr := is("")
	if version == "" {
		versionOut = like(`^Client Version: v1\.\d+\.\d+\S*\nKustomize Version: v\S+\nServer Version: v1\.32\.4\n$`)
	}
	skew := "WARNING: version difference between client (1." + strconv.Itoa(minor) + ") and server (1.32) exceeds the supported minor version skew of +/-1\n"
	if minor == 27 {
		versionOut = like(`^Client Version: version\.Info\{Major:"1", Minor:"27", GitVersion:"v1\.27\.\d+", .*\}\nKustomize Version: v\S+\n` +
			`Server Version: version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.4", GitCommit:"[0-9a-f]{40}", GitTreeState:"clean", BuildDate:"[^"]+", GoVersion:"go[^"]+", Compiler:"gc", Platform:"linux/amd64"\}\n$`)
		versionErr = is("WARNING: This version information is deprecated and will be replaced with the output from kubectl version --short.  Use --output=yaml|json to get the full version.\n" + skew)
	} else if minor < 31 || minor > 33 {
		versionErr = is(skew)
	}
	return []step{
		{args: []string{"version"}, out: versionOut, err: versionErr},
		{args: []string{"get", "nodes"}, out: like(`^NAME +STATUS +ROLES +AGE +VERSION\n` +
			`node1 +Ready +control-plane +` + ageRE + ` +v1\.32\.4\n` +
			`node2 +Ready +<none> +` + ageRE + ` +v1\.32\.4\n` +
			`node3 +Ready +<none> +` + ageRE + ` +v1\.32\.4\n$`)},
		{args: []string{"get", "nodes", "-o", "wide"}, out: like(`^NAME +STATUS +ROLES +AGE +VERSION +INTERNAL-IP +EXTERNAL-IP +OS-IMAGE +KERNEL-VERSION +CONTAINER-RUNTIME\n` +
			`node1 +Ready +control-plane +` + ageRE + ` +v1\.32\.4 +\d+\.\d+\.\d+\.\d+ +<none> +Ubuntu 24\.04\.1 LTS +\S+ +containerd://\S+\n(node\d .*\n){2}$`)},
		{args: []string{"get", "ns"}, out: like(`^NAME +STATUS +AGE\n` +
			`default +Active +` + ageRE + `\nkube-node-lease +Active +` + ageRE + `\nkube-public +Active +` + ageRE + `\nkube-system +Active +` + ageRE + `\n$`)},
		{args: []string{"get", "pods"}, err: is("No resources found in default namespace.\n")},
		{args: []string{"get", "pods", "-n", "kube-system"}, err: is("No resources found in kube-system namespace.\n")},
		{args: []string{"-n", "kube-public", "get", "configmaps"}, out: like(`^NAME +DATA +AGE\ncluster-info +1 +` + ageRE + `\nkube-root-ca\.crt +1 +` + ageRE + `\n$`)},
		{args: []string{"-n", "kube-public", "get", "configmap", "cluster-info", "-o", "jsonpath={.data.kubeconfig}"}, out: like(`(?s)^apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: [A-Za-z0-9+/=]+\n    server: https://127\.0\.0\.1:\d+\n`)},
		{args: []string{"get", "svc", "-A"}, out: like(`^NAMESPACE +NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\n` +
			`default +kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +` + ageRE + `\n$`)},
		{args: []string{"get", "svc", "kubernetes", "--show-labels"}, out: like(`^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE +LABELS\n` +
			`kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +` + ageRE + ` +component=apiserver,provider=kubernetes\n$`)},
		{args: []string{"api-resources"}, out: like(`(?sm)\ANAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND$` +
			`.*^configmaps +cm +v1 +true +ConfigMap$` +
			`.*^namespaces +ns +v1 +false +Namespace\nnodes +no +v1 +false +Node$` +
			`.*^pods +po +v1 +true +Pod$` +
			`.*^services +svc +v1 +true +Service$` +
			`.*^deployments +deploy +apps/v1 +true +Deployment\nreplicasets +rs +apps/v1 +true +ReplicaSet$` +
			`.*^jobs +batch/v1 +true +Job$`)},
		{args: []string{"api-resources", "--namespaced=false", "-o", "name"}, out: like(`(?m)^namespaces\nnodes\n`)},
		{args: []string{"get", "foo"}, err: is("error: the server doesn't have a resource type \"foo\"\n"), code: 1},
		{args: []string{"get", "pod", "nope"}, err: is("Error from server (NotFound): pods \"nope\" not found\n"), code: 1},
		{args: []string{"get", "deploy", "nope", "-o", "yaml"}, err: is("Error from server (NotFound): deployments.apps \"nope\" not found\n"), code: 1},
		{args: []string{"get", "ns", "nope"}, err: is("Error from server (NotFound): namespaces \"nope\" not found\n"), code: 1},
		{args: []string{"get", "pods", "-l", "a b"}, code: 1, err: is(`Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "a b", field selector "": unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt` + "\n")},
		{args: []string{"get", "pods", "-l", "app in (x"}, code: 1, err: like(`^Error from server \(BadRequest\): Unable to find "/v1, Resource=pods" that match label selector "app in \(x", field selector "": unable to parse requirement: .*\n$`)},
		{args: []string{"delete", "pod", "nope"}, err: is("Error from server (NotFound): pods \"nope\" not found\n"), code: 1},
	}
}

// createSteps use the create subcommands, and their duplicate errors.
func createSteps() []step {
	return []step{
		{args: []string{"create", "namespace", "ns1"}, out: is("namespace/ns1 created\n")},
		{args: []string{"create", "namespace", "ns1"}, err: is("Error from server (AlreadyExists): namespaces \"ns1\" already exists\n"), code: 1},
		{args: []string{"create", "deployment", "web", "--image=nginx", "--replicas=2"}, out: is("deployment.apps/web created\n")},
		{args: []string{"create", "deployment", "web", "--image=nginx"}, err: is("error: failed to create deployment: deployments.apps \"web\" already exists\n"), code: 1},
		{args: []string{"create", "job", "j1", "--image=busybox", "--", "echo", "hi"}, out: is("job.batch/j1 created\n")},
		{args: []string{"create", "configmap", "cm1", "--from-literal=color=blue", "--from-literal=size=small"}, out: is("configmap/cm1 created\n")},
		{args: []string{"create", "configmap", "cm1", "--from-literal=color=red"}, err: is("error: failed to create configmap: configmaps \"cm1\" already exists\n"), code: 1},
		{args: []string{"create", "secret", "generic", "s1", "--from-literal=password=v"}, out: is("secret/s1 created\n")},
		{args: []string{"create", "service", "clusterip", "svc1", "--tcp=80:8080"}, out: is("service/svc1 created\n")},
		{args: []string{"create", "service", "nodeport", "svc2", "--tcp=80:8080"}, out: is("service/svc2 created\n")},
		{args: []string{"create", "service", "clusterip", "svc1", "--tcp=80:8080"}, err: is("error: failed to create ClusterIP service: services \"svc1\" already exists\n"), code: 1},
		{args: []string{"create", "deployment", "web", "-n", "nons", "--image=nginx"}, err: is("error: failed to create deployment: namespaces \"nons\" not found\n"), code: 1},
		{args: []string{"wait", "--for=condition=available", "deploy/web"}, out: is("deployment.apps/web condition met\n")},
		{args: []string{"wait", "--for=condition=complete", "job/j1", "--timeout=60s"}, out: is("job.batch/j1 condition met\n")},
		{args: []string{"scale", "deploy", "web", "--replicas=3"}, out: is("deployment.apps/web scaled\n")},
		{args: []string{"wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy/web", "--timeout=60s"}, out: is("deployment.apps/web condition met\n")},
		{args: []string{"expose", "deploy", "web", "--port=80"}, out: is("service/web exposed\n")},
	}
}

// getSteps read what createSteps made in every output format.
func getSteps() []step {
	pod := `web-[bcdfghjklmnpqrstvwxz2456789]{8,10}-[bcdfghjklmnpqrstvwxz2456789]{5}`
	return []step{
		{args: []string{"get", "deploy"}, out: like(`^NAME +READY +UP-TO-DATE +AVAILABLE +AGE\nweb +3/3 +3 +3 +` + ageRE + `\n$`)},
		{args: []string{"get", "deploy", "-o", "wide"}, out: like(`^NAME +READY +UP-TO-DATE +AVAILABLE +AGE +CONTAINERS +IMAGES +SELECTOR\nweb +3/3 +3 +3 +` + ageRE + ` +nginx +nginx +app=web\n$`)},
		{args: []string{"get", "pods", "-l", "app=web", "-o", "name"}, out: like(`^(pod/` + pod + `\n){3}$`)},
		{args: []string{"get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"}, out: like(`^` + pod + ` ` + pod + ` ` + pod + `$`)},
		{args: []string{"get", "deploy", "-o", `go-template={{range .items}}{{.metadata.name}} {{.spec.replicas}}{{"\n"}}{{end}}`}, out: is("web 3\n")},
		{args: []string{"get", "deploy", "-o", "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas"}, out: is("NAME   REPLICAS\nweb    3\n")},
		{args: []string{"get", "cm", "cm1", "-o", "jsonpath={.data.color}"}, out: is("blue")},
		{args: []string{"get", "secret", "s1", "-o", "jsonpath={.data.password}"}, out: is("dg==")},
		{args: []string{"get", "deploy", "web", "-o", "yaml"}, out: like(`(?s)^apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    deployment\.kubernetes\.io/revision: "1"\n  creationTimestamp: "[-0-9T:]+Z"\n  generation: 2\n  labels:\n    app: web\n  name: web\n  namespace: default\n  resourceVersion: "\d+"\n  uid: [-0-9a-f]{36}\nspec:\n.*  replicas: 3\n.*\nstatus:\n  availableReplicas: 3\n.*  readyReplicas: 3\n  replicas: 3\n  updatedReplicas: 3\n$`)},
		{args: []string{"get", "deploy", "web", "-o", "json"}, out: like(`(?s)^\{\n    "apiVersion": "apps/v1",\n    "kind": "Deployment",\n    "metadata": \{\n.*        "name": "web",\n.*"readyReplicas": 3,.*\n\}\n$`)},
		{args: []string{"get", "pods", "-l", "app=web", "--show-labels"}, out: like(`^NAME +READY +STATUS +RESTARTS +AGE +LABELS\n(` + pod + ` +1/1 +Running +0 +` + ageRE + ` +app=web,pod-template-hash=\w+\n){3}$`)},
		{args: []string{"get", "pods", "-L", "app", "-l", "app"}, out: like(`^NAME +READY +STATUS +RESTARTS +AGE +APP\n(` + pod + ` +1/1 +Running +0 +` + ageRE + ` +web\n){3}$`)},
		{args: []string{"get", "pods", "-o", "wide", "-l", "app=web"}, out: like(`^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES\n(` + pod + ` +1/1 +Running +0 +` + ageRE + ` +10\.244\.\d+\.\d+ +node\d +<none> +<none>\n){3}$`)},
		{args: []string{"get", "pods", "-A", "-l", "app=web"}, out: like(`^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE\n(default +` + pod + ` +1/1 +Running +0 +` + ageRE + `\n){3}$`)},
		{args: []string{"get", "svc"}, out: like(`^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\n` +
			`kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +` + ageRE + `\n` +
			`svc1 +ClusterIP +10\.\d+\.\d+\.\d+ +<none> +80/TCP +` + ageRE + `\n` +
			`svc2 +NodePort +10\.\d+\.\d+\.\d+ +<none> +80:3\d{4}/TCP +` + ageRE + `\n` +
			`web +ClusterIP +10\.\d+\.\d+\.\d+ +<none> +80/TCP +` + ageRE + `\n$`)},
		{args: []string{"get", "cm"}, out: like(`^NAME +DATA +AGE\ncm1 +2 +` + ageRE + `\nkube-root-ca\.crt +1 +` + ageRE + `\n$`)},
		{args: []string{"get", "secrets"}, out: like(`^NAME +TYPE +DATA +AGE\ns1 +Opaque +1 +` + ageRE + `\n$`)},
		{args: []string{"get", "jobs"}, out: like(`^NAME +STATUS +COMPLETIONS +DURATION +AGE\nj1 +Complete +1/1 +` + ageRE + ` +` + ageRE + `\n$`)},
		{args: []string{"get", "ns", "ns1"}, out: like(`^NAME +STATUS +AGE\nns1 +Active +` + ageRE + `\n$`)},
		{args: []string{"get", "events"}, out: like(`(?m)\A^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$(?s:.*)^` + ageRE + ` +Normal +Scheduled +pod/` + pod + ` +Successfully assigned default/` + pod + ` to node\d$`)},
		{args: []string{"get", "events", "-A"}, out: like(`\ANAMESPACE +LAST SEEN +TYPE +REASON +OBJECT +MESSAGE\n`)},
		{args: []string{"get", "deploy,svc", "-l", "app=web"}, out: like(`^NAME +READY +UP-TO-DATE +AVAILABLE +AGE\ndeployment\.apps/web +3/3 +3 +3 +` + ageRE + `\n\nNAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\nservice/web +ClusterIP +10\.\d+\.\d+\.\d+ +<none> +80/TCP +` + ageRE + `\n$`)},
	}
}

const appliedCM = `apiVersion: v1
kind: ConfigMap
metadata:
  name: applied
data:
  greeting: %s
`

const appliedDeploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: applied
spec:
  replicas: 1
  selector:
    matchLabels: {app: applied}
  template:
    metadata:
      labels: {app: applied}
    spec:
      containers:
      - name: nginx
        image: %s
`

// applySteps apply a heredoc on stdin: created, unchanged, configured. The
// Deployment's re-apply is a strategic merge patch whose list merge keys
// kubectl takes from its built-in types (the served OpenAPI v2 and v3
// documents have no schemas); a nested unknown field is rejected by the
// server, to which kubectl 1.29+ leave validation after reading v3.
func applySteps() []step {
	return []step{
		{args: []string{"apply", "-f", "-"}, stdin: fmt.Sprintf(appliedDeploy, "nginx"), out: is("deployment.apps/applied created\n")},
		{args: []string{"apply", "-f", "-"}, stdin: fmt.Sprintf(appliedDeploy, "nginx"), out: is("deployment.apps/applied unchanged\n")},
		{args: []string{"apply", "-f", "-"}, stdin: fmt.Sprintf(appliedDeploy, "nginx:1.26"), out: is("deployment.apps/applied configured\n")},
		{args: []string{"get", "deploy", "applied", "-o", "jsonpath={.spec.template.spec.containers[*].image}"}, out: is("nginx:1.26")},
		{args: []string{"apply", "-f", "-"}, stdin: strings.Replace(fmt.Sprintf(appliedDeploy, "nginx"), "replicas: 1", "replicas: 1\n  bogus: 2", 1), code: 1,
			err: like(`(?s)^Error from server \(BadRequest\): error when (applying patch|creating).*unknown field "spec\.bogus"`)},
		// Foreground: kubectl waits until the Deployment has gone, which is
		// after its ReplicaSet, which is after its pods.
		{args: []string{"delete", "deploy", "applied", "--cascade=foreground"}, out: is("deployment.apps \"applied\" deleted\n")},
		{args: []string{"get", "deploy,rs,pods", "-l", "app=applied"}, err: is("No resources found in default namespace.\n")},
		{args: []string{"apply", "-f", "-"}, stdin: fmt.Sprintf(appliedCM, "hello"), out: is("configmap/applied created\n")},
		{args: []string{"apply", "-f", "-"}, stdin: fmt.Sprintf(appliedCM, "hello"), out: is("configmap/applied unchanged\n")},
		{args: []string{"apply", "-f", "-"}, stdin: fmt.Sprintf(appliedCM, "bonjour"), out: is("configmap/applied configured\n")},
		{args: []string{"get", "cm", "applied", "-o", "jsonpath={.data.greeting}"}, out: is("bonjour")},
		{args: []string{"apply", "-f", "-"}, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\nbogus: 1\n", code: 1,
			err: is("Error from server (BadRequest): error when creating \"STDIN\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\"\n")},
		{args: []string{"create", "-f", "-"}, stdin: fmt.Sprintf(appliedCM, "x"), code: 1,
			err: is("Error from server (AlreadyExists): error when creating \"STDIN\": configmaps \"applied\" already exists\n")},
	}
}

// runLogs covers run (a pod, and --dry-run=client which sends nothing)
// and logs (-l, --tail, -f).
func runLogs(t *testing.T, s *Server, k *kubectl, minor int) {
	logsNotFound := "error: error from server (NotFound): pods \"nope\" not found in namespace \"default\"\n"
	if minor < 30 {
		logsNotFound = "Error from server (NotFound): pods \"nope\" not found\n"
	}
	runSteps(t, k, []step{
		{args: []string{"run", "r1", "--image=busybox", "--restart=Never", "--", "sh", "-c", "echo one; echo two; echo three"}, out: is("pod/r1 created\n")},
		{args: []string{"run", "r2", "--image=nginx", "--dry-run=client", "-o", "yaml"}, out: is("apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n  labels:\n    run: r2\n  name: r2\nspec:\n  containers:\n  - image: nginx\n    name: r2\n    resources: {}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n")},
		{args: []string{"get", "pod", "r2"}, err: is("Error from server (NotFound): pods \"r2\" not found\n"), code: 1},
		{args: []string{"create", "deployment", "echoer", "--image=busybox", "--replicas=2", "--", "sh", "-c", "echo one; echo two; sleep 3600"}, out: is("deployment.apps/echoer created\n")},
		{args: []string{"wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/r1", "--timeout=60s"}, out: is("pod/r1 condition met\n")},
		{args: []string{"wait", "--for=condition=available", "deploy/echoer", "--timeout=60s"}, out: is("deployment.apps/echoer condition met\n")},
	})
	waitStore(t, s, 20*time.Second, "2 ready echoer pods", func() bool { return countReady(s.pods("default", "app=echoer")) == 2 })
	for _, p := range s.pods("default", "app=echoer") {
		waitLog(t, s, "default", p.Name, 2)
	}
	runSteps(t, k, []step{
		{args: []string{"get", "pod", "r1"}, out: like(`^NAME +READY +STATUS +RESTARTS +AGE\nr1 +0/1 +Completed +0 +` + ageRE + `\n$`)},
		{args: []string{"logs", "r1"}, out: is("one\ntwo\nthree\n")},
		{args: []string{"logs", "r1", "--tail", "1"}, out: is("three\n")},
		{args: []string{"logs", "r1", "--tail=2"}, out: is("two\nthree\n")},
		{args: []string{"logs", "-f", "r1"}, out: is("one\ntwo\nthree\n")},
		{args: []string{"logs", "job/j1"}, out: is("hi\n")},
		{args: []string{"logs", "-l", "job-name=j1"}, out: is("hi\n")},
		{args: []string{"logs", "-l", "app=echoer"}, out: is("one\ntwo\none\ntwo\n")},
		{args: []string{"logs", "-l", "app=echoer", "--tail", "1"}, out: is("two\ntwo\n")},
		{args: []string{"logs", "-l", "app=echoer", "--prefix"}, out: like(`^(\[pod/echoer-\w+-\w{5}/busybox\] one\n\[pod/echoer-\w+-\w{5}/busybox\] two\n){2}$`)},
		// 1.30 rewords the error of logs (kubectl's own wrapping).
		{args: []string{"logs", "nope"}, err: is(logsNotFound), code: 1},
	})
}

func labelSteps(minor int) []step {
	// kubectl 1.27 prints "annotate" for "annotated" (its own typo).
	annotated := "pod/r1 annotated\n"
	if minor == 27 {
		annotated = "pod/r1 annotate\n"
	}
	return []step{
		{args: []string{"label", "pod", "r1", "color=blue"}, out: is("pod/r1 labeled\n")},
		{args: []string{"label", "pod", "r1", "color=red"}, err: is("error: 'color' already has a value (blue), and --overwrite is false\n"), code: 1},
		{args: []string{"label", "pod", "r1", "color=red", "--overwrite"}, out: is("pod/r1 labeled\n")},
		{args: []string{"get", "pods", "-l", "color=red", "-o", "name"}, out: is("pod/r1\n")},
		{args: []string{"get", "pods", "-L", "color", "-l", "color"}, out: like(`^NAME +READY +STATUS +RESTARTS +AGE +COLOR\nr1 +0/1 +Completed +0 +` + ageRE + ` +red\n$`)},
		{args: []string{"label", "pod", "r1", "color-"}, out: is("pod/r1 unlabeled\n")},
		{args: []string{"get", "pods", "-l", "color"}, err: is("No resources found in default namespace.\n")},
		{args: []string{"label", "deploy", "--all", "tier=front"}, out: is("deployment.apps/echoer labeled\ndeployment.apps/web labeled\n")},
		{args: []string{"label", "pod", "nope", "a=b"}, err: is("Error from server (NotFound): pods \"nope\" not found\n"), code: 1},
		{args: []string{"annotate", "pod", "r1", "note=hi"}, out: is(annotated)},
		{args: []string{"annotate", "pod", "r1", "note=ho"}, err: is("error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hi)\n"), code: 1},
		{args: []string{"annotate", "pod", "r1", "note=ho", "--overwrite"}, out: is(annotated)},
		{args: []string{"get", "pod", "r1", "-o", "jsonpath={.metadata.annotations.note}"}, out: is("ho")},
	}
}

func rolloutSteps() []step {
	return []step{
		{args: []string{"rollout", "status", "deploy/web"}, out: is("deployment \"web\" successfully rolled out\n")},
		{args: []string{"set", "image", "deploy/web", "nginx=nginx:1.27"}, out: is("deployment.apps/web image updated\n")},
		{args: []string{"set", "image", "deploy/web", "nope=nginx:1.27"}, err: is("error: unable to find container named \"nope\"\n"), code: 1},
		{args: []string{"rollout", "status", "deploy/web", "--timeout=60s"}, out: like(`(?s)deployment "web" successfully rolled out\n$`)},
		{args: []string{"rollout", "history", "deploy/web"}, out: is("deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n")},
		{args: []string{"rollout", "history", "deploy/web", "--revision=2"}, out: like(`(?s)^deployment\.apps/web with revision #2\nPod Template:\n  Labels:\tapp=web\n\tpod-template-hash=\w+\n  Containers:\n   nginx:\n    Image:\tnginx:1\.27\n`)},
		{args: []string{"rollout", "undo", "deploy/web"}, out: is("deployment.apps/web rolled back\n")},
		{args: []string{"rollout", "status", "deploy/web", "--timeout=60s"}, out: like(`(?s)deployment "web" successfully rolled out\n$`)},
		{args: []string{"get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}, out: is("nginx")},
		{args: []string{"rollout", "history", "deploy/web"}, out: is("deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n")},
		{args: []string{"rollout", "undo", "deploy/web", "--to-revision=9"}, err: is("error: unable to find specified revision 9 in history\n"), code: 1},
		{args: []string{"rollout", "restart", "deploy/web"}, out: is("deployment.apps/web restarted\n")},
		{args: []string{"rollout", "status", "deploy/web", "--timeout=60s"}, out: like(`(?s)deployment "web" successfully rolled out\n$`)},
	}
}

// patchEditSteps patch (strategic, merge, json) and edit with a
// non-interactive EDITOR.
func patchEditSteps() []step {
	return []step{
		{args: []string{"patch", "deploy", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}`}, out: is("deployment.apps/web patched\n")},
		{args: []string{"get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}"}, out: is("nginx:1.26")},
		{args: []string{"patch", "cm", "cm1", "--type=merge", "-p", `{"data":{"size":"large"}}`}, out: is("configmap/cm1 patched\n")},
		{args: []string{"patch", "cm", "cm1", "--type=merge", "-p", `{"data":{"size":"large"}}`}, out: is("configmap/cm1 patched (no change)\n")},
		{args: []string{"patch", "cm", "cm1", "--type=json", "-p", `[{"op":"remove","path":"/data/size"}]`}, out: is("configmap/cm1 patched\n")},
		{args: []string{"patch", "cm", "cm1", "--type=json", "-p", `[{"op":"remove","path":"/data/size"}]`}, code: 1,
			err: like(`^The request is invalid: the server rejected our request due to an error in our request\n$|^Error from server \(BadRequest\): .*\n$`)},
		{args: []string{"patch", "cm", "nope", "-p", `{"data":{"a":"b"}}`}, err: is("Error from server (NotFound): configmaps \"nope\" not found\n"), code: 1},
		{args: []string{"edit", "cm", "cm1"}, env: []string{"EDITOR=sed -i s/blue/green/"}, out: is("configmap/cm1 edited\n")},
		{args: []string{"get", "cm", "cm1", "-o", "jsonpath={.data.color}"}, out: is("green")},
		{args: []string{"edit", "cm", "cm1"}, env: []string{"EDITOR=true"}, err: is("Edit cancelled, no changes made.\n")},
	}
}

// waitDelete covers wait --for=delete: a timeout while a finalizer holds
// the object, then success once it goes.
func waitDelete(t *testing.T, s *Server, k *kubectl) {
	runSteps(t, k, []step{
		{args: []string{"apply", "-f", "-"}, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n", out: is("configmap/held created\n")},
		{args: []string{"delete", "cm", "held", "--wait=false"}, out: is("configmap \"held\" deleted\n")},
		// At the deadline client-go's reflector may log that its watch was
		// cut (a klog line, as against a real cluster).
		{args: []string{"wait", "--for=delete", "cm/held", "--timeout=3s"}, code: 1,
			err: like(`^([EWI]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+\] .*\n)*error: timed out waiting for the condition on configmaps/held\n$`)},
	})
	// kubectl -v=6 logs each response, so the watch's line says kubectl
	// saw the object and waits for its deletion.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := k.cmd(ctx, "wait", "--for=delete", "cm/held", "--timeout=60s", "-v=6")
	var out strings.Builder
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	watching := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "watch=true") {
			watching = true
			break
		}
	}
	go func() { // drain, so that kubectl never blocks on a full pipe
		for sc.Scan() {
		}
	}()
	if !watching {
		_ = cmd.Wait()
		t.Fatalf("wait --for=delete never watched; stdout %q", out.String())
	}
	runSteps(t, k, []step{
		{args: []string{"patch", "cm", "held", "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`}, out: is("configmap/held patched\n")},
	})
	if err := cmd.Wait(); err != nil {
		t.Errorf("wait --for=delete: %v", err)
	}
	expectExact(t, "wait --for=delete", out.String(), "configmap/held condition met\n")
	runSteps(t, k, []step{
		{args: []string{"get", "cm", "held"}, err: is("Error from server (NotFound): configmaps \"held\" not found\n"), code: 1},
	})
}

// deleteAll deletes by name, selector and --all, with cascade=orphan;
// the control plane puts back the kube-root-ca.crt ConfigMap and the
// kubernetes Service.
func deleteAll(t *testing.T, s *Server, k *kubectl) {
	runSteps(t, k, deleteSteps())
	runSteps(t, k, []step{
		{args: []string{"delete", "all", "--all"}, out: like(`^pod "j1-\w{5}" deleted\npod "r1" deleted\nservice "kubernetes" deleted\njob\.batch "j1" deleted\n$`)},
	})
	waitStore(t, s, 10*time.Second, "no pods, kube-root-ca.crt and the kubernetes service back", func() bool {
		_, err1 := s.store.get(s.reg.must("", "configmaps"), "default", "kube-root-ca.crt")
		_, err2 := s.store.get(s.reg.must("", "services"), "default", "kubernetes")
		return err1 == nil && err2 == nil && len(s.pods("default", "")) == 0
	})
	runSteps(t, k, []step{
		{args: []string{"get", "cm"}, out: like(`^NAME +DATA +AGE\nkube-root-ca\.crt +1 +` + ageRE + `\n$`)},
		{args: []string{"get", "svc"}, out: like(`^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\nkubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +` + ageRE + `\n$`)},
		{args: []string{"get", "all"}, out: like(`^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\nservice/kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +` + ageRE + `\n$`)},
	})
}

func deleteSteps() []step {
	return []step{
		{args: []string{"delete", "cm", "-l", "nothing=here"}, out: is("No resources found\n")},
		{args: []string{"delete", "pods", "-l", "app=echoer", "--wait=false"}, out: like(`^pod "echoer-\w+-\w{5}" deleted\npod "echoer-\w+-\w{5}" deleted\n$`)},
		{args: []string{"delete", "deploy", "echoer", "--cascade=orphan"}, out: is("deployment.apps \"echoer\" deleted\n")},
		{args: []string{"get", "rs", "-l", "app=echoer", "-o", "jsonpath={.items[*].metadata.ownerReferences}"}, out: is("")},
		{args: []string{"get", "rs", "-l", "app=echoer"}, out: like(`^NAME +DESIRED +CURRENT +READY +AGE\necho-?er-\w+ +2 +2 +\d +` + ageRE + `\n$`)},
		{args: []string{"delete", "rs", "-l", "app=echoer"}, out: like(`^replicaset\.apps "echoer-\w+" deleted\n$`)},
		{args: []string{"delete", "cm", "--all"}, out: is("configmap \"applied\" deleted\nconfigmap \"cm1\" deleted\nconfigmap \"kube-root-ca.crt\" deleted\n")},
		{args: []string{"delete", "svc", "svc1", "svc2"}, out: is("service \"svc1\" deleted\nservice \"svc2\" deleted\n")},
		{args: []string{"delete", "svc", "kubernetes", "web"}, out: is("service \"kubernetes\" deleted\nservice \"web\" deleted\n")},
		{args: []string{"delete", "namespace", "ns1"}, out: is("namespace \"ns1\" deleted\n")},
		{args: []string{"delete", "deploy", "web"}, out: is("deployment.apps \"web\" deleted\n")},
		{args: []string{"delete", "deploy", "web"}, err: is("Error from server (NotFound): deployments.apps \"web\" not found\n"), code: 1},
		{args: []string{"delete", "foo", "x"}, err: is("error: the server doesn't have a resource type \"foo\"\n"), code: 1},
	}
}
