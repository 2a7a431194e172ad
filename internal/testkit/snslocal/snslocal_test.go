package snslocal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/example/secret-rotation/internal/testkit/snslocal"
)

func client(s *snslocal.Server) *sns.Client {
	return sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

// The unmodified SDK client publishes, and the server records exactly
// what was sent; malformed publishes get the service's error codes and
// are not recorded.
func TestPublish(t *testing.T) {
	s := snslocal.Start()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client(s)
	tests := []struct {
		name     string
		in       sns.PublishInput
		wantCode string // "" = accepted
	}{
		{"subject and body", sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:1:t"), Subject: aws.String("[env] doctor"), Message: aws.String("line 1\nline 2 & <3>")}, ""},
		{"no subject", sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:1:t"), Message: aws.String("body")}, ""},
		{"no topic", sns.PublishInput{Message: aws.String("body")}, "InvalidParameter"},
	}
	var want []snslocal.Message
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.Publish(ctx, &tt.in)
			var ae smithy.APIError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("publish: %v", err)
			case tt.wantCode == "":
				if aws.ToString(out.MessageId) == "" {
					t.Error("no message id")
				}
				want = append(want, snslocal.Message{TopicARN: aws.ToString(tt.in.TopicArn), Subject: aws.ToString(tt.in.Subject), Body: aws.ToString(tt.in.Message)})
			case !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode:
				t.Fatalf("error %v, want code %s", err, tt.wantCode)
			}
		})
	}
	got := s.Messages()
	if len(got) != len(want) {
		t.Fatalf("%d messages recorded, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Anything but a POSTed Publish is refused with the service's error.
func TestOtherRequests(t *testing.T) {
	s := snslocal.Start()
	defer s.Close()
	tests := []struct {
		name, method, body, wantCode string
	}{
		{"GET", http.MethodGet, "", "MalformedQueryString"},
		// The SDK checks Message itself; the server must too.
		{"publish without message", http.MethodPost, url.Values{"Action": {"Publish"}, "TopicArn": {"t"}}.Encode(), "InvalidParameter"},
		{"other action", http.MethodPost, url.Values{"Action": {"Subscribe"}, "TopicArn": {"t"}}.Encode(), "InvalidAction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL(), strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "<Code>"+tt.wantCode+"</Code>") {
				t.Errorf("status %d body %s, want 400 and %s", resp.StatusCode, b, tt.wantCode)
			}
		})
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages recorded", n)
	}
}
