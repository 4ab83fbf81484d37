package fake

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// cronSpec is a parsed standard cron schedule: a set of allowed values per
// field (minute, hour, day of month, month, day of week).
type cronSpec struct {
	fields           [5]map[int]bool
	domStar, dowStar bool
}

var cronBounds = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}

var cronNames = [5]map[string]int{nil, nil, nil,
	{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12},
	{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}

// parseCron reads "m h dom mon dow" with *, lists, ranges, steps, month
// and day names, and the @hourly/@daily/@weekly/@monthly/@yearly macros.
func parseCron(spec string) (*cronSpec, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "@yearly", "@annually":
		spec = "0 0 1 1 *"
	case "@monthly":
		spec = "0 0 1 * *"
	case "@weekly":
		spec = "0 0 * * 0"
	case "@daily", "@midnight":
		spec = "0 0 * * *"
	case "@hourly":
		spec = "0 * * * *"
	}
	parts := strings.Fields(spec)
	if len(parts) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(parts), spec)
	}
	cs := &cronSpec{domStar: parts[2] == "*" || parts[2] == "?", dowStar: parts[4] == "*" || parts[4] == "?"}
	for i, p := range parts {
		set := map[int]bool{}
		for _, item := range strings.Split(p, ",") {
			lo, hi := cronBounds[i][0], cronBounds[i][1]
			step := 1
			rng, st, hasStep := strings.Cut(item, "/")
			if hasStep {
				n, err := strconv.Atoi(st)
				if err != nil || n <= 0 {
					return nil, fmt.Errorf("bad step in %q", item)
				}
				step = n
			}
			if rng != "*" && rng != "?" {
				a, b, isRange := strings.Cut(rng, "-")
				va, err := cronValue(a, i)
				if err != nil {
					return nil, err
				}
				lo, hi = va, va
				if isRange {
					vb, err := cronValue(b, i)
					if err != nil {
						return nil, err
					}
					hi = vb
				} else if hasStep {
					hi = cronBounds[i][1]
				}
			}
			if lo < cronBounds[i][0] || hi > cronBounds[i][1] || lo > hi {
				if !(i == 4 && hi == 7) {
					return nil, fmt.Errorf("end of range (%d) above maximum (%d): %s", hi, cronBounds[i][1], item)
				}
			}
			for v := lo; v <= hi; v += step {
				if i == 4 {
					set[v%7] = true // 7 is Sunday too
				} else {
					set[v] = true
				}
			}
		}
		cs.fields[i] = set
	}
	return cs, nil
}

func cronValue(s string, field int) (int, error) {
	if names := cronNames[field]; names != nil {
		if v, ok := names[strings.ToLower(s)]; ok {
			return v, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, errors.Unwrap(err))
	}
	return n, nil
}

// next returns the first matching minute after t (zero if none in 5 years).
func (cs *cronSpec) next(t time.Time) time.Time {
	t = t.Truncate(time.Minute).Add(time.Minute)
	for i := 0; i < 5*366*24*60; i++ {
		dom := cs.fields[2][t.Day()]
		dow := cs.fields[4][int(t.Weekday())]
		dayOK := dom && dow
		if !cs.domStar && !cs.dowStar {
			dayOK = dom || dow
		}
		if cs.fields[3][int(t.Month())] && dayOK && cs.fields[1][t.Hour()] && cs.fields[0][t.Minute()] {
			return t
		}
		if !cs.fields[3][int(t.Month())] || !dayOK {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
			continue
		}
		if !cs.fields[1][t.Hour()] {
			t = t.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

func jobFinished(j *batchv1.Job) (bool, batchv1.JobConditionType) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true, c.Type
		}
	}
	return false, ""
}

// syncCronJob starts the Job of the latest schedule time that has passed,
// honours concurrencyPolicy and the history limits, and sets a timer for
// the next schedule time.
func (c *controllers) syncCronJob(key string) {
	s := c.s
	ns, name := splitKey(key)
	cres, jres := s.reg.must("batch", "cronjobs"), s.reg.must("batch", "jobs")
	obj, err := s.store.get(cres, ns, name)
	if err != nil {
		return
	}
	cj := obj.(*batchv1.CronJob)
	if cj.DeletionTimestamp != nil {
		return
	}
	sched, err := parseCron(cj.Spec.Schedule)
	if err != nil {
		return
	}
	var jobs []*batchv1.Job
	for _, o := range c.ownedBy(jres, ns, cj.UID) {
		jobs = append(jobs, o.(*batchv1.Job))
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].CreationTimestamp.Before(&jobs[j].CreationTimestamp) })
	st := cj.Status.DeepCopy()
	st.Active = nil
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		done, typ := jobFinished(j)
		switch {
		case !done:
			st.Active = append(st.Active, corev1.ObjectReference{Kind: "Job", Namespace: ns, Name: j.Name, UID: j.UID, APIVersion: "batch/v1", ResourceVersion: j.ResourceVersion})
		case typ == batchv1.JobComplete:
			succeeded = append(succeeded, j)
			if j.Status.CompletionTime != nil && (st.LastSuccessfulTime == nil || st.LastSuccessfulTime.Before(j.Status.CompletionTime)) {
				st.LastSuccessfulTime = j.Status.CompletionTime
			}
		default:
			failed = append(failed, j)
		}
	}
	for i := 0; i < len(succeeded)-int(deref32(cj.Spec.SuccessfulJobsHistoryLimit, 3)); i++ {
		_, _ = s.delete(jres, ns, succeeded[i].Name, metav1.DeleteOptions{})
	}
	for i := 0; i < len(failed)-int(deref32(cj.Spec.FailedJobsHistoryLimit, 1)); i++ {
		_, _ = s.delete(jres, ns, failed[i].Name, metav1.DeleteOptions{})
	}
	now := time.Now()
	from := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		from = st.LastScheduleTime.Time
	}
	var due time.Time
	for t, i := sched.next(from), 0; !t.IsZero() && !t.After(now) && i < 1000; t, i = sched.next(t), i+1 {
		due = t
	}
	if !due.IsZero() && !(cj.Spec.Suspend != nil && *cj.Spec.Suspend) {
		skip := false
		switch cj.Spec.ConcurrencyPolicy {
		case batchv1.ForbidConcurrent:
			skip = len(st.Active) > 0
		case batchv1.ReplaceConcurrent:
			for _, a := range st.Active {
				_, _ = s.delete(jres, ns, a.Name, metav1.DeleteOptions{})
			}
			st.Active = nil
		}
		if !skip {
			job := &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", cj.Name, due.Unix()/60), Namespace: ns,
					Labels: cj.Spec.JobTemplate.Labels, Annotations: map[string]string{"batch.kubernetes.io/cronjob-scheduled-timestamp": due.Format(time.RFC3339)},
					OwnerReferences: []metav1.OwnerReference{ownerRef(cj, "batch/v1", "CronJob")}},
				Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
			}
			for k, v := range cj.Spec.JobTemplate.Annotations {
				job.Annotations[k] = v
			}
			if out, err := s.create(jres, job, false); err == nil {
				j := out.(*batchv1.Job)
				st.Active = append(st.Active, corev1.ObjectReference{Kind: "Job", Namespace: ns, Name: j.Name, UID: j.UID, APIVersion: "batch/v1", ResourceVersion: j.ResourceVersion})
				s.recordEvent(cj, "CronJob", "", corev1.EventTypeNormal, "SuccessfulCreate", "Created job "+j.Name, "cronjob-controller", "")
			}
			st.LastScheduleTime = &metav1.Time{Time: due}
		}
	}
	if nxt := sched.next(now); !nxt.IsZero() {
		c.after("cronjobs/"+key, time.Until(nxt)+50*time.Millisecond)
	}
	c.updateStatus(cres, cj, func(cur runtime.Object) bool {
		x := cur.(*batchv1.CronJob)
		if equality.Semantic.DeepEqual(x.Status, *st) {
			return false
		}
		x.Status = *st
		return true
	})
}
