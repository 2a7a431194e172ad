package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// LogReader is the part of the CloudWatch Logs API the doctor uses to
// read the rotation function's log group. *cloudwatchlogs.Client
// implements it; tests use a fake or the local endpoint.
type LogReader interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Bounds of the log search: the report quotes at most MaxLogLines lines
// of at most MaxLogLineLen bytes, found within MaxLogPages pages (in all)
// of the last LogWindow, within logSearchTimeout.
const (
	MaxLogLines   = 5
	MaxLogLineLen = 300
	MaxLogPages   = 10
	LogWindow     = 24 * time.Hour
	// logCallTimeout bounds one FilterLogEvents call, its retries included.
	logCallTimeout = 20 * time.Second
	// logSearchTimeout bounds the whole search for one secret.
	logSearchTimeout = 30 * time.Second
)

// errorLines returns the last error lines the rotation function logged
// for secretARN in group between start and now: its JSON records with
// "outcome":"failed" (docs/rotation-function.md, Logs). The filter pattern
// (CloudWatch Logs' syntax) is the ARN alone: Lambda's own lines for a
// timeout or a crash ("Task timed out", Runtime.ExitError) name no
// secret, so they could be another secret's and are not quoted.
//
// FilterLogEvents returns events oldest first, so the latest lines are
// found by narrowing the window: a window with more than one page is
// halved, keeping its newer half, until one page holds it; then the
// older rest is searched the same way while fewer than MaxLogLines lines
// were found. At most MaxLogPages pages in all.
func errorLines(ctx context.Context, lr LogReader, group, secretARN string, start, now time.Time) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, logSearchTimeout)
	defer cancel()
	var lines []string // oldest first
	pages := 0
	from, to, open := start, now, true // the newest window has no end
	for pages < MaxLogPages {
		in := &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName:  aws.String(group),
			StartTime:     aws.Int64(from.UnixMilli()),
			FilterPattern: aws.String(fmt.Sprintf("%q", secretARN)),
			Limit:         aws.Int32(100),
		}
		if !open {
			in.EndTime = aws.Int64(to.UnixMilli() - 1) // EndTime is inclusive
		}
		var found []string
		narrowed := false
		p := cloudwatchlogs.NewFilterLogEventsPaginator(lr, in, func(o *cloudwatchlogs.FilterLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
		for first := true; p.HasMorePages() && pages < MaxLogPages; first = false {
			pctx, pcancel := context.WithTimeout(ctx, logCallTimeout)
			out, err := p.NextPage(pctx)
			pcancel()
			pages++
			if err != nil {
				return last(append(found, lines...)), fmt.Errorf("read log group %s: %w", group, err)
			}
			if first && p.HasMorePages() && to.Sub(from) > time.Minute {
				from, narrowed = from.Add(to.Sub(from)/2), true
				break
			}
			for _, e := range out.Events {
				if m := strings.TrimSpace(aws.ToString(e.Message)); isErrorLine(m) && strings.Contains(m, secretARN) {
					found = last(append(found, clip(shortLine(m))))
				}
			}
		}
		if narrowed {
			continue
		}
		lines = last(append(found, lines...))
		if len(lines) >= MaxLogLines || !from.After(start) {
			return lines, nil
		}
		from, to, open = start, from, false
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("read log group %s: no error line found within %d pages", group, MaxLogPages)
	}
	return lines, nil
}

// last keeps the last MaxLogLines lines.
func last(lines []string) []string {
	if len(lines) > MaxLogLines {
		return slices.Clone(lines[len(lines)-MaxLogLines:])
	}
	return lines
}

func clip(m string) string {
	if len(m) > MaxLogLineLen {
		return m[:MaxLogLineLen] + "..."
	}
	return m
}

// isErrorLine keeps failures and drops the function's successful steps
// that the ARN pattern also matches.
func isErrorLine(m string) bool {
	for _, s := range []string{`"outcome":"failed"`, `"outcome":"refused"`, `"level":"ERROR"`, "Task timed out", "Runtime.ExitError"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// shortLine turns one of the rotation function's JSON records into
// "STEP OUTCOME: ERROR" (what an operator needs); other lines are kept.
func shortLine(m string) string {
	var rec struct {
		Step    string `json:"step"`
		Outcome string `json:"outcome"`
		Error   string `json:"error"`
	}
	if json.Unmarshal([]byte(m), &rec) != nil || rec.Step == "" {
		return m
	}
	s := rec.Step + " " + rec.Outcome
	if rec.Error != "" {
		s += ": " + rec.Error
	}
	return s
}
