// Command bootstrap is the rotation doctor function (issue 14): it is
// triggered by rotation failure events and the rotation function's error
// alarm, diagnoses the secret from inside the VPC, repairs what the guard
// allows and publishes a report. This placeholder only fixes the package
// path the stacks build; the doctor is being written.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		return "", errors.New("doctor not implemented yet")
	})
}
