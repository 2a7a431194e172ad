package compliance_test

import (
	"path/filepath"
	"testing"

	"github.com/example/secret-rotation/internal/compliance"
)

func TestReadValidationReport(t *testing.T) {
	got, err := compliance.ReadValidationReport(filepath.Join("testdata", "validation-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"error AwsSolutions-IAM5[Resource::*] at /Beta/Fixture/PolicyA/Resource: The IAM entity contains wildcard permissions.",
		"error AwsSolutions-IAM5[Resource::*] at /Fixture/PolicyB/Resource: The IAM entity contains wildcard permissions.",
		"error NIST.800.53.R5-S3DefaultEncryptionKMS at /Fixture/OpenBucket: The S3 Bucket is not encrypted with a KMS Key by default - (Control IDs: AU-9(3)).",
		"warning CloudFormation Validate::W2508 at /Fixture/WorldSG: Security group allows 0.0.0.0/0 access to sensitive port 22",
	}
	if len(got) != len(want) {
		t.Fatalf("%d findings, want %d: %v", len(got), len(want), got)
	}
	for i, f := range got {
		if f.String() != want[i] {
			t.Errorf("finding %d:\n got %s\nwant %s", i, f, want[i])
		}
	}
	if _, err := compliance.ReadValidationReport(filepath.Join("testdata", "missing.json")); err == nil {
		t.Error("missing report: no error")
	}
}
