package report

// neverStarted tells a chapter an interrupted run never reached.
func neverStarted(ch ChapterResult) bool {
	for _, l := range ch.Labs {
		if !l.NotRun() {
			return false
		}
	}
	return ch.Status == Interrupted
}
