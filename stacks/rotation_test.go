package stacks_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/rotationcdk"
)

func TestRotationFunction(t *testing.T) {
	tests := []struct {
		env         string
		caBundle    bool
		concurrency any
	}{
		// No reservation unless configured: Lambda keeps 100 executions
		// unreserved, so any reservation fails in accounts with a quota of
		// 100 or less (new accounts).
		{env: "dev", concurrency: assertions.Match_Absent()},
		{env: "prod", concurrency: assertions.Match_Absent()},
		{env: "full", caBundle: true, concurrency: 2},
		{env: "isolated", concurrency: assertions.Match_Absent()},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateOf(t, tc.env, "Rotation")
			// No SECRETS_MANAGER_ENDPOINT, also in prod and isolated with the
			// interface endpoint: its private DNS (TestNetwork) serves the
			// SDK's default host name.
			vars := map[string]any{
				rotation.EnvPasswordLength:         "32",
				rotation.EnvExcludeCharacters:      `/@"'\`,
				rotation.EnvSecretsManagerEndpoint: assertions.Match_Absent(),
				rotation.EnvCABundle:               assertions.Match_Absent(),
			}
			if tc.caBundle {
				vars[rotation.EnvCABundle] = rotationcdk.CABundleFileName
			}
			assert(t, "function", func() {
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Runtime":                      "provided.al2023",
					"Architectures":                []any{"arm64"},
					"Handler":                      "bootstrap",
					"Timeout":                      60,
					"ReservedConcurrentExecutions": tc.concurrency,
					"Environment":                  map[string]any{"Variables": assertions.Match_ObjectEquals(&vars)},
					"LoggingConfig":                map[string]any{"LogGroup": assertions.Match_AnyValue()},
					"VpcConfig":                    map[string]any{"SubnetIds": assertions.Match_AnyValue(), "SecurityGroupIds": assertions.Match_AnyValue()},
				})
			})
			assert(t, "one function", func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1)) })
			assert(t, "log group retention", func() {
				tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": assertions.Match_AnyValue()})
			})
			// Grants and the invoke permission live in the database stack.
			assert(t, "no permission here", func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(0)) })
			assert(t, "no inline policy here", func() { tpl.ResourceCountIs(jsii.String("AWS::IAM::Policy"), jsii.Number(0)) })

			raw := templateJSON(t, tc.env, "Rotation")
			for _, fn := range resourcesOfType(raw, "AWS::Lambda::Function") {
				subnets := asJSON(props(fn)["VpcConfig"].(map[string]any)["SubnetIds"])
				if !strings.Contains(subnets, "PrivateSubnet") || strings.Contains(subnets, "PublicSubnet") {
					t.Errorf("function subnets %s, want the private subnets only", subnets)
				}
				key := asJSON(props(fn)["Code"].(map[string]any)["S3Key"])
				if !regexp.MustCompile(`^"[0-9a-f]{64}\.zip"$`).MatchString(key) {
					t.Errorf("code S3Key = %s, want an asset hash", key)
				}
			}
			// The function's group: only HTTPS out here (the DB port rule is in the database stack).
			for id, sg := range resourcesOfType(raw, "AWS::EC2::SecurityGroup") {
				egress := props(sg)["SecurityGroupEgress"].([]any)
				if len(egress) != 1 || asJSON(egress[0].(map[string]any)["FromPort"]) != "443" {
					t.Errorf("%s egress = %s, want only 443", id, asJSON(egress))
				}
				if _, ok := props(sg)["SecurityGroupIngress"]; ok {
					t.Errorf("%s has ingress rules", id)
				}
			}
		})
	}
}
