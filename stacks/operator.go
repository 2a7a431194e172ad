package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
)

// newOperatorHost creates the SSM-managed client host that replaces the Cloud9
// environment of the original solution: private subnet, no key pair, no
// public IP, IMDSv2 only, encrypted root volume, MySQL-compatible client
// installed at boot. Operators connect with `aws ssm start-session`.
func newOperatorHost(scope constructs.Construct, vpc awsec2.IVpc, subnets *awsec2.SubnetSelection) awsec2.Instance {
	userData := awsec2.UserData_ForLinux(nil)
	userData.AddCommands(jsii.String("dnf install -y mariadb105 jq"))
	sg := awsec2.NewSecurityGroup(scope, jsii.String("OperatorHostSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Operator access host: no ingress; HTTPS out for SSM and packages"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to SSM and package repositories"), nil)
	host := awsec2.NewInstance(scope, jsii.String("OperatorHost"), &awsec2.InstanceProps{
		Vpc:          vpc,
		VpcSubnets:   subnets,
		InstanceType: awsec2.NewInstanceType(jsii.String("t4g.nano")),
		MachineImage: awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{
			CpuType: awsec2.AmazonLinuxCpuType_ARM_64,
		}),
		SecurityGroup:         sg,
		DetailedMonitoring:    jsii.Bool(true),
		SsmSessionPermissions: jsii.Bool(true),
		RequireImdsv2:         jsii.Bool(true),
		UserData:              userData,
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume:     awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{Encrypted: jsii.Bool(true)}),
		}},
	})
	// No public IP: the private subnets never map one (AssociatePublicIpAddress
	// is not set because it would move the subnet into a network interface
	// block that the rule packs read as "not in a VPC").
	compliance.MustSuppress(host, compliance.Suppression{Rule: "AwsSolutions-EC29", Reason: ReasonOperatorTermination})
	compliance.MustSuppress(host.Role(), compliance.Suppression{
		Rule: "AwsSolutions-IAM4", Reason: ReasonSSMCore,
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"},
	})
	return host
}
