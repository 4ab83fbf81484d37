package executor

import (
	"reflect"
	"testing"

	"github.com/labrun/labrun/parser"
)

func selDeck() *parser.Deck {
	lab := []parser.Lab{{}}
	return &parser.Deck{Chapters: []parser.Chapter{
		{File: "slides/k8s/kubectl-run.md", Slides: []parser.Slide{
			{Number: 1, Title: "Running our first containers"},
			{Number: 3, Title: "Starting a simple pod", Labs: lab},
			{Number: 4, Title: "Viewing container output", Labs: lab},
			{Number: 10, Title: "Creating a Deployment", Labs: lab},
		}},
		{File: "slides/k8s/rollout.md", Slides: []parser.Slide{
			{Number: 2, Title: "Rolling updates", Labs: lab},
			{Number: 5, Title: "Viewing a rollout", Labs: lab},
		}},
	}}
}

// titles lists chapter:slide numbers kept.
func kept(d *parser.Deck) []string {
	var out []string
	for _, ch := range d.Chapters {
		for _, sl := range ch.Slides {
			out = append(out, sl.Title)
		}
	}
	return out
}

func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sel     Selection
		want    []string
		skipped int
		err     bool
	}{
		{"everything", Selection{}, []string{"Running our first containers", "Starting a simple pod", "Viewing container output", "Creating a Deployment", "Rolling updates", "Viewing a rollout"}, 0, false},
		{"chapter", Selection{Chapter: "rollout"}, []string{"Rolling updates", "Viewing a rollout"}, 3, false},
		{"one slide", Selection{SlideFrom: 4, SlideTo: 4}, []string{"Viewing container output"}, 4, false},
		{"open range", Selection{SlideFrom: 4}, []string{"Viewing container output", "Creating a Deployment", "Viewing a rollout"}, 2, false},
		{"from title across chapters", Selection{From: "deployment"}, []string{"Creating a Deployment", "Rolling updates", "Viewing a rollout"}, 2, false},
		{"from to", Selection{From: "viewing container", To: "rolling"}, []string{"Viewing container output", "Creating a Deployment", "Rolling updates"}, 2, false},
		{"to ends once", Selection{To: "viewing"}, []string{"Running our first containers", "Starting a simple pod", "Viewing container output"}, 3, false},
		{"nothing", Selection{Chapter: "nope"}, nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, skipped, err := Select(selDeck(), tc.sel)
			if tc.err {
				if err == nil {
					t.Fatalf("want an error, kept %v", kept(d))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kept(d); !reflect.DeepEqual(got, tc.want) || skipped != tc.skipped {
				t.Errorf("kept %v, skipped %d; want %v, %d", got, skipped, tc.want, tc.skipped)
			}
		})
	}
}

func TestParseSlideRange(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from, to int
		err      bool
	}{
		{"5", 5, 5, false}, {"3-7", 3, 7, false}, {"4-", 4, 0, false}, {"-6", 0, 6, false},
		{"0", 0, 0, true}, {"x", 0, 0, true}, {"7-3", 0, 0, true},
	} {
		from, to, err := ParseSlideRange(tc.in)
		if (err != nil) != tc.err || from != tc.from || to != tc.to {
			t.Errorf("ParseSlideRange(%q) = %d, %d, %v", tc.in, from, to, err)
		}
	}
}
