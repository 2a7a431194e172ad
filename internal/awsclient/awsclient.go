// Package awsclient builds the Secrets Manager client of the command-line
// tools (dbconnect, rotatectl) the way the AWS CLI would: the standard AWS
// configuration (environment, shared config and credentials files, IMDS)
// with the --profile, --region and --endpoint-url flags applied on top.
package awsclient

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Flags are the command-line overrides; an empty one leaves the standard
// configuration alone.
type Flags struct {
	Profile     string // shared config profile
	Region      string
	EndpointURL string // Secrets Manager endpoint
}

// SecretsManager returns a client built from the standard AWS
// configuration and f. The SDK itself honours
// AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL; f.EndpointURL
// overrides both.
func SecretsManager(ctx context.Context, f Flags) (*secretsmanager.Client, error) {
	var lo []func(*awsconfig.LoadOptions) error
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
