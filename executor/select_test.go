package executor

import (
	"reflect"
	"strings"
	"testing"

	"github.com/labrun/labrun/parser"
)

func selDeck() *parser.Deck {
	lab := []parser.Lab{{}}
	return &parser.Deck{Chapters: []parser.Chapter{
		{File: "slides/k8s/kubectl-run.md", Slides: []parser.Slide{
			{Number: 1, Title: "Running our first containers"},
			{Number: 3, Title: "One pod, started", Labs: lab},
			{Number: 4, Title: "What the container prints", Labs: lab},
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
		{"everything", Selection{}, []string{"Running our first containers", "One pod, started", "What the container prints", "Creating a Deployment", "Rolling updates", "Viewing a rollout"}, 0, false},
		{"chapter", Selection{Chapter: "rollout"}, []string{"Rolling updates", "Viewing a rollout"}, 3, false},
		{"one slide", Selection{Slides: []SlideRange{{4, 4}}}, []string{"What the container prints"}, 4, false},
		{"open range", Selection{Slides: []SlideRange{{4, 0}}}, []string{"What the container prints", "Creating a Deployment", "Viewing a rollout"}, 2, false},
		{"list", Selection{Slides: []SlideRange{{2, 2}, {4, 4}}}, []string{"What the container prints", "Rolling updates"}, 3, false},
		{"from title across chapters", Selection{From: "deployment"}, []string{"Creating a Deployment", "Rolling updates", "Viewing a rollout"}, 2, false},
		{"from to", Selection{From: "what the container", To: "rolling"}, []string{"What the container prints", "Creating a Deployment", "Rolling updates"}, 2, false},
		{"to ends once", Selection{To: "what the"}, []string{"Running our first containers", "One pod, started", "What the container prints"}, 3, false},
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

func TestParseSlides(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []SlideRange
		err  string
	}{
		{"5", []SlideRange{{5, 5}}, ""}, {"3-7", []SlideRange{{3, 7}}, ""}, {"4-", []SlideRange{{4, 0}}, ""},
		{"3,5", []SlideRange{{3, 3}, {5, 5}}, ""}, {"1-2, 6-", []SlideRange{{1, 2}, {6, 0}}, ""},
		{"0", nil, "whole numbers from 1"}, {"-1", nil, "whole numbers from 1"}, {"-6", nil, "whole numbers from 1"},
		{"x", nil, "whole numbers from 1"}, {"3,", nil, "whole numbers from 1"},
		{"7-3", nil, "ends before it starts"}, {"", nil, "--slide is empty"}, {" ", nil, "--slide is empty"},
	} {
		got, err := ParseSlides(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSlides(%q): error %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSlides(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
