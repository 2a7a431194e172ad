package doctor

import (
	"context"
	"encoding/json"
	"fmt"
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
// of at most MaxLogLineLen bytes, found within MaxLogPages pages of the
// last LogWindow.
const (
	MaxLogLines   = 5
	MaxLogLineLen = 300
	MaxLogPages   = 5
	LogWindow     = 24 * time.Hour
	// logCallTimeout bounds one FilterLogEvents call, its retries included.
	logCallTimeout = 20 * time.Second
)

// errorLines returns the last error lines the rotation function logged
// for secretARN in group since start: its JSON records with
// "outcome":"failed" (docs/rotation-function.md, Logs) plus Lambda's own
// lines for timeouts and crashes, which carry no secret ARN. The filter
// is CloudWatch Logs' pattern syntax; matching the ARN in the pattern
// keeps other secrets' failures out.
func errorLines(ctx context.Context, lr LogReader, group, secretARN string, start time.Time) ([]string, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		StartTime:     aws.Int64(start.UnixMilli()),
		FilterPattern: aws.String(fmt.Sprintf("?%q ?\"Task timed out\" ?\"Runtime.ExitError\"", secretARN)),
		Limit:         aws.Int32(100),
	}
	var lines []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(lr, in, func(o *cloudwatchlogs.FilterLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages := 0; p.HasMorePages() && pages < MaxLogPages; pages++ {
		pctx, cancel := context.WithTimeout(ctx, logCallTimeout)
		out, err := p.NextPage(pctx)
		cancel()
		if err != nil {
			return lines, fmt.Errorf("read log group %s: %w", group, err)
		}
		for _, e := range out.Events {
			m := strings.TrimSpace(aws.ToString(e.Message))
			if !isErrorLine(m) {
				continue
			}
			m = shortLine(m)
			if len(m) > MaxLogLineLen {
				m = m[:MaxLogLineLen] + "..."
			}
			lines = append(lines, m)
		}
	}
	if len(lines) > MaxLogLines {
		lines = lines[len(lines)-MaxLogLines:]
	}
	return lines, nil
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
