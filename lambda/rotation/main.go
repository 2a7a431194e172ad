// Command bootstrap is the Secrets Manager rotation function for MySQL and
// MariaDB. This file is a temporary stub so the CDK app can bundle the
// package while the real function is being written.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
		return errors.New("rotation function not implemented yet")
	})
}
