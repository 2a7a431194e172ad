package logslocal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/example/secret-rotation/internal/testkit/logslocal"
)

func client(s *logslocal.Server) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

// filter reads every page of group with pattern through the SDK's
// paginator (at most 100 pages).
func filter(ctx context.Context, c *cloudwatchlogs.Client, group, pattern string) ([]string, int, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)}
	if pattern != "" {
		in.FilterPattern = aws.String(pattern)
	}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, in)
	var out []string
	pages := 0
	for p.HasMorePages() && pages < 100 {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, pages, err
		}
		pages++
		for _, e := range page.Events {
			out = append(out, aws.ToString(e.Message))
		}
	}
	return out, pages, nil
}

// Lines added and lines of a source, filtered by the supported subset
// of CloudWatch's filter syntax, in order.
func TestFilterLogEvents(t *testing.T) {
	s := logslocal.Start()
	defer s.Close()
	s.Add("g", `{"outcome":"failed","secret_arn":"arn:a"}`, `{"outcome":"ok","secret_arn":"arn:a"}`, "", "plain ERROR line")
	src := "from source arn:a failed\nfrom source arn:b\n"
	s.Source("g", func() string { return src })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client(s)
	tests := []struct {
		pattern string
		want    []string
	}{
		{"", []string{`{"outcome":"failed","secret_arn":"arn:a"}`, `{"outcome":"ok","secret_arn":"arn:a"}`, "plain ERROR line", "from source arn:a failed", "from source arn:b"}},
		{`"arn:a"`, []string{`{"outcome":"failed","secret_arn":"arn:a"}`, `{"outcome":"ok","secret_arn":"arn:a"}`, "from source arn:a failed"}},
		{`"arn:a" failed`, []string{`{"outcome":"failed","secret_arn":"arn:a"}`, "from source arn:a failed"}},
		{`"\"outcome\":\"failed\""`, []string{`{"outcome":"failed","secret_arn":"arn:a"}`}},
		{`?ERROR ?arn:b`, []string{"plain ERROR line", "from source arn:b"}},
		{`nothing-matches`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, _, err := filter(ctx, c, "g", tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// More lines than a page: the paginator follows nextToken to the end,
// each line once, and the last page has no token.
func TestPaging(t *testing.T) {
	s := logslocal.Start()
	defer s.Close()
	var lines []string
	for i := range 120 {
		lines = append(lines, fmt.Sprintf("line %03d", i))
	}
	s.Add("big", lines...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, pages, err := filter(ctx, client(s), "big", "line")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, lines) || pages != 3 {
		t.Errorf("%d lines in %d pages, want 120 in 3", len(got), pages)
	}
	if n := s.Calls(); n != 3 {
		t.Errorf("%d calls served, want 3", n)
	}
}

// A group never added nor sourced is the service's ResourceNotFound, and
// other operations are refused.
func TestErrors(t *testing.T) {
	s := logslocal.Start()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client(s)
	_, _, err := filter(ctx, c, "missing", "")
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing group: %v, want ResourceNotFoundException", err)
	}
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err == nil || !strings.Contains(err.Error(), "UnknownOperationException") {
		t.Errorf("DescribeLogGroups: %v, want UnknownOperationException", err)
	}
}
