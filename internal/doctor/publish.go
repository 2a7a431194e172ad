package doctor

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// Publisher is the part of the SNS API the doctor uses to send its
// report. *sns.Client implements it; tests use a fake or the local
// endpoint.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}
