package doctor

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// fakeLogs is a log group of timestamped lines, oldest first, served like
// FilterLogEvents: StartTime and EndTime inclusive, quoted terms (all of
// them, or any of the ?-prefixed ones), Limit, NextToken.
type fakeLogs struct {
	events []types.FilteredLogEvent
	calls  int
}

var termRE = regexp.MustCompile(`(\??)"((?:[^"\\]|\\.)*)"`)

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	f.calls++
	terms := termRE.FindAllStringSubmatch(aws.ToString(in.FilterPattern), -1)
	match := func(m string) bool {
		anyOf := len(terms) > 0 && terms[0][1] == "?"
		for _, t := range terms {
			hit := strings.Contains(m, t[2])
			if anyOf && hit {
				return true
			}
			if !anyOf && !hit {
				return false
			}
		}
		return !anyOf
	}
	var sel []types.FilteredLogEvent
	for _, e := range f.events {
		ts := aws.ToInt64(e.Timestamp)
		if (in.StartTime != nil && ts < *in.StartTime) || (in.EndTime != nil && ts > *in.EndTime) || !match(aws.ToString(e.Message)) {
			continue
		}
		sel = append(sel, e)
	}
	from, _ := strconv.Atoi(aws.ToString(in.NextToken))
	to := min(from+int(aws.ToInt32(in.Limit)), len(sel))
	out := &cloudwatchlogs.FilterLogEventsOutput{Events: sel[from:to]}
	if to < len(sel) {
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	return out, nil
}

// The report quotes the latest lines of the secret even when the last 24
// hours hold more matching events than the pages read, and never
// Lambda's timeout line of an invocation that may be another secret's.
func TestErrorLinesLatestOfThisSecret(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/a-AbCdEf"
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &fakeLogs{}
	add := func(at time.Time, m string) {
		f.events = append(f.events, types.FilteredLogEvent{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(m)})
	}
	const n = 700 // more than MaxLogPages pages of 100
	for i := range n {
		add(now.Add(-23*time.Hour).Add(time.Duration(i)*time.Minute), fmt.Sprintf(`{"secret_arn":%q,"step":"setSecret","outcome":"failed","error":"attempt %d"}`, arn, i))
	}
	add(now.Add(-time.Minute), "2025-03-01T11:59:00Z 6f1c Task timed out after 30.00 seconds")
	lines, err := errorLines(context.Background(), f, "/rotation/test", arn, now.Add(-LogWindow), now)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := n - MaxLogLines; i < n; i++ {
		want = append(want, fmt.Sprintf("setSecret failed: attempt %d", i))
	}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("lines %q\nwant %q", lines, want)
	}
	if f.calls > MaxLogPages {
		t.Errorf("%d FilterLogEvents calls, want at most %d", f.calls, MaxLogPages)
	}
}
