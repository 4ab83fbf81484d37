package executor

import (
	"regexp"
	"testing"
	"time"
)

// A placeholder takes the row the slides are talking about, as a person
// reading the table would.
func TestPickFit(t *testing.T) {
	ip := regexp.MustCompile(ipv4Pattern)
	pod := regexp.MustCompile(`web-[0-9a-f]{6,10}-[0-9a-z]{5}`)
	wide := `[node1] ~# kubectl get pods -o wide
NAME                    READY   STATUS    RESTARTS   AGE   IP           NODE    NOMINATED NODE   READINESS GATES
web-7c9f6d8b5-q2x7m     1/1     Running   0          12s   10.244.1.7   node2   <none>           <none>
ticker                  1/1     Running   0          9m    10.244.2.4   node3   <none>           <none>
[node1] ~# `
	for _, tc := range []struct {
		name, screen, created, want string
		re                          *regexp.Regexp
	}{
		{"the pod of the deployment created last, not the leftover below it", wide, "web", "10.244.1.7", ip},
		{"nothing created by name: the youngest row", wide, "", "10.244.1.7", ip},
		{"created something not in the table: the youngest row", wide, "other", "10.244.1.7", ip},
		{"a name prefix must end at a dash", `NAME        READY   STATUS    RESTARTS   AGE   IP
webber      1/1     Running   0          1s    10.244.3.3
web-1       1/1     Running   0          4m    10.244.1.9
`, "web", "10.244.1.9", ip},
		{"ages in hours and days compare as durations", `NAME     READY   STATUS    RESTARTS   AGE     IP
alpha    1/1     Running   0          2d3h    10.244.1.2
beta     1/1     Running   0          5h      10.244.1.3
gamma    1/1     Running   0          3d      10.244.1.4
`, "", "10.244.1.3", ip},
		{"no AGE column: the last row", `NAME     IP
alpha    10.244.1.2
beta     10.244.1.3
`, "", "10.244.1.3", ip},
		{"the newest table on the screen counts", `NAME     READY   STATUS    RESTARTS   AGE   IP
web-1    1/1     Running   0          4m    10.244.1.9
[node1] ~# kubectl get pods -o wide
NAME     READY   STATUS    RESTARTS   AGE   IP
other    1/1     Running   0          3s    10.244.5.5
`, "web", "10.244.5.5", ip},
		{"a line outside any table: the last fit", "inet 10.0.0.1\ninet 10.0.0.2\n", "web", "10.0.0.2", ip},
		{"a service table: the service created last", `NAME         TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE
kubernetes   ClusterIP   10.96.0.1       <none>        443/TCP   3h
web          ClusterIP   10.96.211.40    <none>        80/TCP    5s
echo         ClusterIP   10.96.77.12     <none>        80/TCP    1s
`, "web", "10.96.211.40", ip},
		{"a pod name placeholder in a namespaced table", `NAMESPACE   NAME                   READY   STATUS    RESTARTS   AGE
default     web-7c9f6d8b5-q2x7m    1/1     Running   0          10m
default     web-7c9f6d8b5-zz8kk    1/1     Running   0          8s
`, "", "web-7c9f6d8b5-zz8kk", pod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pickFit(tc.screen, tc.re, tc.created)
			if !ok || got != tc.want {
				t.Errorf("pickFit(created %q) = %q, %v; want %q", tc.created, got, ok, tc.want)
			}
		})
	}
	if got, ok := pickFit("nothing here\n", ip, "web"); ok {
		t.Errorf("pickFit on a screen with no address = %q, want none", got)
	}
}

func TestCreatedName(t *testing.T) {
	for cmd, want := range map[string]string{
		"kubectl create deployment web --image=nginx":                                  "web",
		"kubectl create deployment --image nginx web":                                  "web",
		"kubectl run --rm -it --image=alpine scratch":                                  "scratch",
		"kubectl expose deployment web --port=80":                                      "web",
		"kubectl expose deploy/web --port=80 --name web-np":                            "web-np",
		"kubectl create secret generic creds --from-literal=a=b":                       "creds",
		"kubectl create service clusterip echo --tcp=80:80":                            "echo",
		"kubectl create -f manifest.yaml":                                              "",
		"kubectl get pods":                                                             "",
		"kubectl create deployment a --image=x\nkubectl create deployment b --image=y": "b",
	} {
		if got := createdName(cmd); got != want {
			t.Errorf("createdName(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestParseAge(t *testing.T) {
	for s, want := range map[string]time.Duration{"45s": 45 * time.Second, "3m12s": 3*time.Minute + 12*time.Second, "2d3h": 51 * time.Hour} {
		if got, ok := parseAge(s); !ok || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"<unknown>", "", "3x", "10.244.1.2"} {
		if _, ok := parseAge(s); ok {
			t.Errorf("parseAge(%q) took it as an age", s)
		}
	}
}
