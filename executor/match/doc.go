// Package match compares the expected output shown on a slide with what a
// lab's last command really printed. It is pure: strings in, a Result out.
//
// Slides promise what attendees will see; labrun holds the promise strictly
// where it is stable and forgives exactly what legitimately varies between
// runs. the README gives an example for every rule.
//
// Normalisation (Normalize, applied to expected and actual lines alike):
//
//   - Timestamps become <time>: RFC3339 (2026-11-26T17:06:28Z, with
//     fractions and offsets), "2026-11-26 17:06:28" (Go's time.String too),
//     date(1)'s "Thu Nov 26 17:06:28 UTC 2026" and kubectl describe's
//     "Thu, 26 Nov 2026 17:06:28 +0000". They go first because some contain
//     double spaces that would otherwise split columns.
//   - UIDs become <uid>; sha256:<64 hex> becomes sha256:<digest>; container
//     IDs (docker://, containerd://, cri-o://) become <scheme>://<id>; any
//     other 64-hex string becomes <hex>; resourceVersion values become <rv>.
//   - Every IPv4 and IPv6 address becomes <ip>, 10.96.0.1 and 127.0.0.1
//     included: one cluster or another may number things differently, and
//     one rule is easier to explain than a list of exceptions. CIDR suffixes
//     and ports after the address are kept.
//   - Versions (v1.32.4, v5.5.0, v1.30.0+k3s1) become <version>.
//   - Generated names: a Deployment's pod pingpong-5f8d7b9c4c-q2w7x becomes
//     pingpong-<hash>-<id>, its ReplicaSet pingpong-5f8d7b9c4c becomes
//     pingpong-<hash>, other controllers' pods web-x7k2p become web-<id>.
//     Hashes are 8–10 characters and ids 5 characters of Kubernetes' safe
//     alphabet (bcdfghjklmnpqrstvwxz2456789); the placeholders authors write
//     (xxxxxxxxxx or xxxxxxxxxxx for the hash, yyyyy or xxxxx for the id)
//     normalise the same way. pod-template-hash label values become <hash>.
//   - Numbers in the NodePort range (30000–32767) become <nodeport>.
//   - Sub-second durations (1.234s, 0.072 ms after ping's time=) become
//     <duration>.
//   - Ages become <age>: a whitespace-separated token shaped like kubectl's
//     human durations (11s, 6m02s, 2h18m, 7d6h, 2y3d), the hand-shortened
//     2h18, <invalid> and <unknown>; also the token before "ago" (the
//     RESTARTS column's "1 (5s ago)"). A token right after a "key:" token is
//     left alone (describe's "cpu:  100m" is a quantity, not an age).
//   - Column spacing: leading/trailing blanks are trimmed, tabs are spaces,
//     a run of two or more spaces is one column separator (printed as three
//     spaces). Lines are compared token by token, so a table row compares
//     cell by cell whatever gap widths kubectl or the author used.
//
// Matching (Match):
//
//   - Every non-blank expected line must match an actual line, in order;
//     the actual output may have extra lines anywhere (rows left over from
//     earlier steps such as service/kubernetes, warnings, blank lines).
//     Each expected line takes the first matching actual line after the
//     previous match; an unmatched line is reported in Missing and the next
//     expected line is searched from the same place.
//   - A table is no exception: the expected header must match an actual
//     header, each expected row an actual row after it, token by token.
//     Counts (READY 1/1, DESIRED 3, RESTARTS 0) are compared exactly, so a
//     missing row or a wrong count fails.
//   - Hand-elided parts are wildcards: a line that is only "...", "[...]"
//     or "…" stands for any number of lines (extra lines are allowed anyway,
//     so it is skipped); inside a line they match any text.
//   - Output that shows an error (an unindented line starting with
//     "Error from server", "error: " or "Error: ") sets ExpectError: the
//     executor then expects a non-zero exit status. The error text must
//     still match. Match compares text only; ExpectsError tells the caller
//     which exit status to expect.
package match
