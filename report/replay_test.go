package report

// Replay feeds a finished run to a sink in the order the executor does
// (chapter started, each step started and done, lab done, chapter done, run
// done), so a saved run or a test's hand-built one renders exactly as it
// did live. A sink that is a StepStarter hears of each step first.
func Replay(s Sink, r *Run) {
	if r == nil {
		return
	}
	starter, _ := s.(StepStarter)
	for _, ch := range r.Chapters {
		if neverStarted(ch) {
			continue // the executor adds it to the run, never to a sink
		}
		s.ChapterStarted(ChapterResult{File: ch.File, Title: ch.Title, Status: Passed})
		for _, lab := range ch.Labs {
			if lab.NotRun() {
				continue
			}
			for i, st := range lab.Steps {
				if starter != nil {
					starter.StepStarted(StepResult{File: st.File, Line: st.Line, Kind: st.Kind, Command: st.Command, Pane: st.Pane})
				}
				sofar := lab
				sofar.Steps = lab.Steps[: i+1 : i+1]
				s.StepDone(sofar, st)
			}
			s.LabDone(lab)
		}
		s.ChapterDone(ch)
	}
	s.RunDone(r)
}
