//go:build race

package fake

// raceEnabled says the test binary runs under the race detector.
const raceEnabled = true
