// Package awsclient builds the Secrets Manager client of the command-line
// tools (dbconnect, rotatectl) the way the AWS CLI would: the standard AWS
// configuration (environment, shared config and credentials files, IMDS)
// with the --profile, --region and --endpoint-url flags applied on top.
//
// The client's HTTP requests time out ([DefaultRequestTimeout]), so no
// call waits forever on a service that accepted the connection and never
// answers, even when the caller's context has no deadline. A timed-out
// attempt is retried by the SDK's standard retryer like any transient
// error; callers bound the whole call with their context.
package awsclient

import (
	"context"
	"fmt"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// DefaultRequestTimeout bounds one HTTP request (connect, send, wait for
// and read the answer). Secrets Manager answers in well under a second.
const DefaultRequestTimeout = 15 * time.Second

// Flags are the command-line overrides; an empty one leaves the standard
// configuration alone.
type Flags struct {
	Profile     string // shared config profile
	Region      string
	EndpointURL string // Secrets Manager endpoint
	// RequestTimeout bounds each HTTP request (0: DefaultRequestTimeout).
	RequestTimeout time.Duration
}

// SecretsManager returns a client built from the standard AWS
// configuration and f. The SDK itself honours
// AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL; f.EndpointURL
// overrides both.
func SecretsManager(ctx context.Context, f Flags) (*secretsmanager.Client, error) {
	timeout := f.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	lo := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(timeout)),
	}
	if f.Profile != "" {
		lo = append(lo, awsconfig.WithSharedConfigProfile(f.Profile))
	}
	if f.Region != "" {
		lo = append(lo, awsconfig.WithRegion(f.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if f.EndpointURL != "" {
			o.BaseEndpoint = &f.EndpointURL
		}
	}), nil
}
