package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/secret-rotation/stacks"
)

// TestDoctorDocFailureEvents: the events docs/doctor.md names as the
// failed-rotation trigger are exactly those the failure rule matches.
func TestDoctorDocFailureEvents(t *testing.T) {
	data, err := os.ReadFile("docs/doctor.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| a failed rotation |") {
			row = line
		}
	}
	_, after, ok := strings.Cut(row, "`detail.eventName` ")
	if !ok {
		t.Fatalf("docs/doctor.md: no failed-rotation row naming detail.eventName")
	}
	names, _, _ := strings.Cut(after, ":")
	var got []string
	for _, m := range regexp.MustCompile("`([A-Za-z]+)`").FindAllStringSubmatch(names, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, stacks.RotationFailureEvents) {
		t.Errorf("docs/doctor.md names %v as the failure events, the rule matches %v", got, stacks.RotationFailureEvents)
	}
}
