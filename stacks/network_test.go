package stacks_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestNetwork(t *testing.T) {
	tests := []struct {
		env          string
		nat, subnets int
		endpoint     bool
	}{
		{env: "dev", nat: 1, subnets: 4},
		{env: "prod", nat: 2, subnets: 4, endpoint: true},
		{env: "full", nat: 3, subnets: 6},
		{env: "isolated", nat: 0, subnets: 4, endpoint: true},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateOf(t, tc.env, "Network")
			assert(t, "NAT gateways", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(tc.nat)) })
			assert(t, "subnets", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), jsii.Number(tc.subnets)) })
			assert(t, "no public IPs on launch", func() {
				tpl.AllResourcesProperties(jsii.String("AWS::EC2::Subnet"), map[string]any{"MapPublicIpOnLaunch": false})
			})
			assert(t, "flow logs", func() {
				tpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), map[string]any{
					"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
				})
			})
			assert(t, "flow log retention", func() {
				tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": assertions.Match_AnyValue()})
			})
			// CDK's default-SG handler logs to a log group of the stack (no orphan after destroy).
			raw := templateJSON(t, tc.env, "Network")
			for id, fn := range resourcesOfType(raw, "AWS::Lambda::Function") {
				if lg := asJSON(props(fn)["LoggingConfig"]); !strings.Contains(lg, "RestrictDefaultSGHandlerLogGroup") {
					t.Errorf("%s LoggingConfig = %s, want the stack's log group", id, lg)
				}
			}
			endpoints := 0
			if tc.endpoint {
				endpoints = 1
				assert(t, "Secrets Manager endpoint", func() {
					tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
						"PrivateDnsEnabled": true, "VpcEndpointType": "Interface",
						"ServiceName": assertions.Match_ObjectLike(&map[string]any{}),
					})
				})
				for _, ep := range resourcesOfType(raw, "AWS::EC2::VPCEndpoint") {
					if !strings.Contains(asJSON(props(ep)["ServiceName"]), "secretsmanager") {
						t.Errorf("endpoint service = %s, want secretsmanager", asJSON(props(ep)["ServiceName"]))
					}
				}
			}
			assert(t, "endpoint count", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(endpoints)) })
			for _, out := range []string{"VpcId", "PublicSubnetIds", "PrivateSubnetIds"} {
				assert(t, "output "+out, func() {
					tpl.HasOutput(jsii.String(out), map[string]any{"Export": map[string]any{"Name": stackName(tc.env, "Network") + "-" + out}})
				})
			}
		})
	}
}

// TestPrivateSubnetsRouteThroughNAT checks that each private subnet of dev
// routes through its single NAT gateway.
func TestPrivateSubnetsRouteThroughNAT(t *testing.T) {
	raw := templateJSON(t, "dev", "Network")
	routes := 0
	for _, r := range resourcesOfType(raw, "AWS::EC2::Route") {
		if _, ok := props(r)["NatGatewayId"]; ok {
			routes++
		}
	}
	if routes != 2 {
		t.Errorf("dev has %d NAT routes, want 2 (one per private subnet)", routes)
	}
}

// TestIsolatedSubnetsWithoutNAT checks that without NAT gateways the private
// subnets have no default route at all (isolated) and the endpoint lives in them.
func TestIsolatedSubnetsWithoutNAT(t *testing.T) {
	raw := templateJSON(t, "isolated", "Network")
	for id, r := range resourcesOfType(raw, "AWS::EC2::Route") {
		if strings.Contains(id, "Private") {
			t.Errorf("isolated private subnets have route %s: %s", id, asJSON(props(r)))
		}
	}
	for _, ep := range resourcesOfType(raw, "AWS::EC2::VPCEndpoint") {
		if subnets := asJSON(props(ep)["SubnetIds"]); !strings.Contains(subnets, "PrivateSubnet") {
			t.Errorf("endpoint subnets %s, want the private subnets", subnets)
		}
	}
}
