package stacks

// Reasons of the cdk-nag suppressions in this package. Each suppression is
// on one resource and, where the rule reports findings, on the exact
// finding; docs/security.md lists them all (a test checks
// that every suppression in the synthesized templates appears there).
const (
	// ReasonPublicRoute: public subnets' default route, NIST VPCNoUnrestrictedRouteToIGW.
	ReasonPublicRoute = "the public subnets hold only the NAT gateways, which need a default route to the internet gateway; " +
		"nothing else is placed there (no public IPs on launch, every workload runs in the private subnets)"
	// ReasonSingleAZ: dev database, AwsSolutions-RDS3 and NIST RDSMultiAZSupport.
	ReasonSingleAZ = "single-AZ by configuration in a non-protected (development) environment to halve its cost; " +
		"protected environments set multiAz"
	// ReasonNoDeletionProtection: dev database, AwsSolutions-RDS10 and NIST RDSInstanceDeletionProtectionEnabled.
	ReasonNoDeletionProtection = "a non-protected (development) environment must be removable with cdk destroy; " +
		"configuration validation requires deletion protection whenever protected is true"
	// ReasonDefaultPort: database, AwsSolutions-RDS11.
	ReasonDefaultPort = "a non-default port is obscurity, not access control: the instance is private and its security group admits " +
		"only the rotation function (and the operator host); set databasePort to move it"
	// ReasonBackupPlan: database, NIST RDSInBackupPlan.
	ReasonBackupPlan = "recovery is covered by RDS automated backups with point-in-time restore (7 days or more) and a final snapshot " +
		"in protected environments; AWS Backup plans are an organization-level policy outside this app"
	// ReasonGeneralLog: database, NIST RDSLoggingEnabled LogExport::general.
	ReasonGeneralLog = "the general query log records every statement of every client (volume and cost, and statements carry data); " +
		"the audit log (MariaDB Audit Plugin, connection events) is exported instead, with error and slow query logs"
	// ReasonMonitoringRole: enhanced monitoring role, AwsSolutions-IAM4.
	ReasonMonitoringRole = "AmazonRDSEnhancedMonitoringRole is the AWS-maintained service-role policy RDS requires to publish " +
		"Enhanced Monitoring metrics; it grants only CloudWatch Logs actions on the RDSOSMetrics log group"
	// ReasonSSMCore: operator host role, AwsSolutions-IAM4.
	ReasonSSMCore = "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager (the host has no SSH and no " +
		"public IP); its ssm, ssmmessages and ec2messages actions have no resource-level permissions to scope"
	// ReasonOperatorTermination: operator host, AwsSolutions-EC29.
	ReasonOperatorTermination = "the operator host is stateless and disposable (rebuilt from user data); termination protection " +
		"would only block cdk destroy"
)
