package main

import (
	"fmt"
	"io"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/example/secret-rotation/internal/compliance"
)

// synthChecked synthesizes app with the compliance check (see package
// compliance) and returns the exit status: 1, after printing every
// unsuppressed finding with its rule and construct path to stderr, when the
// rule packs or aws-cdk-lib's validation report an error.
func synthChecked(app awscdk.App, stderr io.Writer) int {
	if _, err := compliance.Synth(app); err != nil {
		fmt.Fprintf(stderr, "synth failed: %v\n", err)
		return 1
	}
	return 0
}
