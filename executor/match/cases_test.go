package match

// Outputs as kubectl 1.32 prints them, and expected blocks as slides show
// them (the first three come from the seed chapter kubectl-run.md).

const seedCreated = "pod/pingpong created\n"

const seedNotFound = "Error from server (NotFound): the server could not find the requested resource\n"

// seedGetAll is the slide after the get-all lab, copied byte for byte.
const seedGetAll = `NAME                            READY   STATUS        RESTARTS   AGE
pod/pingpong                    1/1     Running       0          6m02s
pod/pingpong-5f8d7b9c4c-q2w7x   1/1     Running       0          11s

NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   2h18

NAME                       READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/pingpong   1/1     1            1           11s

NAME                                  DESIRED   CURRENT   READY   AGE
replicaset.apps/pingpong-5f8d7b9c4c   1         1         1       11s
`

// getAll132 is what kubectl 1.32 prints for the same state on another run:
// other hashes, ages, a different CLUSTER-IP column width.
const getAll132 = `NAME                            READY   STATUS    RESTARTS   AGE
pod/pingpong                    1/1     Running   0          6m2s
pod/pingpong-7d9c8b5f4d-x2vqp   1/1     Running   0          14s

NAME                 TYPE        CLUSTER-IP    EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1     <none>        443/TCP   25m

NAME                       READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/pingpong   1/1     1            1           14s

NAME                                  DESIRED   CURRENT   READY   AGE
replicaset.apps/pingpong-7d9c8b5f4d   1         1         1       14s
`

// getAllLeftovers has rows left over from earlier labs of a longer deck.
const getAllLeftovers = `NAME                            READY   STATUS    RESTARTS      AGE
pod/blue-5d8f7c9b64-q7w2z       1/1     Running   0             2d3h
pod/pingpong                    1/1     Running   0             6m2s
pod/pingpong-7d9c8b5f4d-x2vqp   1/1     Running   0             14s
pod/web-0                       1/1     Running   1 (47h ago)   2d3h

NAME                 TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)        AGE
service/blue         NodePort    10.104.22.187   <none>        80:31876/TCP   2d3h
service/kubernetes   ClusterIP   10.96.0.1       <none>        443/TCP        7d6h

NAME                       READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/blue       1/1     1            1           2d3h
deployment.apps/pingpong   1/1     1            1           14s

NAME                                  DESIRED   CURRENT   READY   AGE
replicaset.apps/blue-5d8f7c9b64       1         1         1       2d3h
replicaset.apps/pingpong-7d9c8b5f4d   1         1         1       14s

NAME                   READY   AGE
statefulset.apps/web   1/1     2d3h
`

// getAllMissingRS is get all before the ReplicaSet row exists.
const getAllMissingRS = `NAME                            READY   STATUS    RESTARTS   AGE
pod/pingpong                    1/1     Running   0          6m2s
pod/pingpong-7d9c8b5f4d-x2vqp   1/1     Running   0          14s

NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   25m

NAME                       READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/pingpong   1/1     1            1           14s
`

// getAllNotReady: the Deployment's pod is still being created.
const getAllNotReady = `NAME                            READY   STATUS              RESTARTS   AGE
pod/pingpong                    1/1     Running             0          6m2s
pod/pingpong-7d9c8b5f4d-x2vqp   0/1     ContainerCreating   0          1s

NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   25m

NAME                       READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/pingpong   0/1     1            0           1s

NAME                                  DESIRED   CURRENT   READY   AGE
replicaset.apps/pingpong-7d9c8b5f4d   1         1         0       1s
`

const slidePodsWide = `NAME                        READY  STATUS   RESTARTS  AGE  IP          NODE   NOMINATED NODE  READINESS GATES
pingpong-xxxxxxxxxx-yyyyy   1/1    Running  0         10s  10.244.1.4  node2  <none>          <none>
`

const podsWide132 = `NAME                        READY   STATUS    RESTARTS   AGE   IP           NODE    NOMINATED NODE   READINESS GATES
pingpong-7d9c8b5f4d-hm6tw   1/1     Running   0          37s   10.244.0.9   node2   <none>           <none>
`

const slideDescribe = `Name:             pingpong
Namespace:        default
...
Node:             node1/10.10.0.11
Start Time:       Thu, 26 Nov 2026 17:06:28 +0000
Labels:           run=pingpong
...
Status:           Running
IP:               10.244.0.7
[...]
Events:
  Type    Reason     Age   From               Message
  ----    ------     ----  ----               -------
  Normal  Scheduled  11s   default-scheduler  Successfully assigned default/pingpong to node1
  Normal  Pulling    10s   kubelet            Pulling image "alpine"
  Normal  Pulled     …     kubelet            Successfully pulled image "alpine" in …
`

const describe132 = `Name:             pingpong
Namespace:        default
Priority:         0
Service Account:  default
Node:             node1/10.10.0.12
Start Time:       Fri, 27 Nov 2026 09:41:03 +0000
Labels:           run=pingpong
Annotations:      <none>
Status:           Running
IP:               10.244.0.23
IPs:
  IP:  10.244.0.23
Containers:
  pingpong:
    Container ID:  containerd://8d3c4b1f6e2a9075c1d4e8f3a6b2c9d0e7f1a4b8c3d6e9f2a5b8c1d4e7f0a3b6
    Image:         alpine
    Image ID:      docker.io/library/alpine@sha256:56fa17d2a7e7f168a043a2712e63aed1f8543aeafdcee47c58dcffe38ed51099
    Port:          <none>
    Host Port:     <none>
    Args:
      ping
      127.0.0.1
    State:          Running
      Started:      Fri, 27 Nov 2026 09:41:05 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-xq7vz (ro)
Conditions:
  Type                        Status
  PodReadyToStartContainers   True
  Initialized                 True
  Ready                       True
  ContainersReady             True
  PodScheduled                True
QoS Class:                   BestEffort
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type    Reason     Age   From               Message
  ----    ------     ----  ----               -------
  Normal  Scheduled  4s    default-scheduler  Successfully assigned default/pingpong to node1
  Normal  Pulling    4s    kubelet            Pulling image "alpine"
  Normal  Pulled     2s    kubelet            Successfully pulled image "alpine" in 1.337s (1.337s including waiting). Image size: 3653068 bytes.
  Normal  Created    2s    kubelet            Created container: pingpong
  Normal  Started    2s    kubelet            Started container pingpong
`

const slideLogs = `PING 127.0.0.1 (127.0.0.1): 56 data bytes
64 bytes from 127.0.0.1: seq=0 ttl=64 time=0.067 ms
64 bytes from 127.0.0.1: seq=1 ttl=64 time=0.104 ms
...
`

const logs132 = `PING 127.0.0.1 (127.0.0.1): 56 data bytes
64 bytes from 127.0.0.1: seq=0 ttl=64 time=0.045 ms
64 bytes from 127.0.0.1: seq=1 ttl=64 time=0.088 ms
64 bytes from 127.0.0.1: seq=2 ttl=64 time=0.091 ms
64 bytes from 127.0.0.1: seq=3 ttl=64 time=0.075 ms
`

const slideVersion = `Client Version: v1.32.4
Kustomize Version: v5.5.0
Server Version: v1.32.4
`

const version131 = `Client Version: v1.31.6
Kustomize Version: v5.4.2
Server Version: v1.31.6-gke.1020000
`

const slideServices = `NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE
blue         NodePort    10.100.29.96   <none>        80:30452/TCP   2m
kubernetes   ClusterIP   10.96.0.1      <none>        443/TCP        3d
`

const services132 = `NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE
blue         NodePort    10.109.164.7   <none>        80:32188/TCP   17s
kubernetes   ClusterIP   10.96.0.1      <none>        443/TCP        12m
`

const slideEvents = `LAST SEEN   TYPE     REASON              OBJECT                          MESSAGE
12s         Normal   ScalingReplicaSet   deployment/pingpong             Scaled up replica set pingpong-5f8d7b9c4c to 1
11s         Normal   SuccessfulCreate    replicaset/pingpong-5f8d7b9c4c  Created pod: pingpong-5f8d7b9c4c-q2w7x
`

const events132 = `LAST SEEN   TYPE     REASON              OBJECT                           MESSAGE
2m1s        Normal   Scheduled           pod/pingpong                     Successfully assigned default/pingpong to node1
<unknown>   Normal   ScalingReplicaSet   deployment/pingpong              Scaled up replica set pingpong-7d9c8b5f4d to 1
40s         Normal   SuccessfulCreate    replicaset/pingpong-7d9c8b5f4d   Created pod: pingpong-7d9c8b5f4d-x2vqp
`

const slideDate = `Thu Nov 26 17:06:28 UTC 2026
`

const date = `Fri Nov  6 09:01:02 UTC 2026
`

const slideTimestamps = `2026-11-26T17:06:28.104356921Z PING 127.0.0.1 (127.0.0.1): 56 data bytes
2026-11-26T17:06:28.104412006Z 64 bytes from 127.0.0.1: seq=0 ttl=64 time=0.049 ms
`

const timestamps132 = `2026-11-27T09:41:05.000821532Z PING 127.0.0.1 (127.0.0.1): 56 data bytes
2026-11-27T09:41:05.000877415Z 64 bytes from 127.0.0.1: seq=0 ttl=64 time=0.061 ms
2026-11-27T09:41:06.001102884Z 64 bytes from 127.0.0.1: seq=1 ttl=64 time=0.070 ms
`
