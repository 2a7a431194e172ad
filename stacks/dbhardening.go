package stacks

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
)

// DatabaseLogExports are the MySQL logs the instance exports to CloudWatch
// Logs. The general query log is left off on purpose (see ReasonGeneralLog).
var DatabaseLogExports = []string{"error", "slowquery", "audit"}

// DatabaseParameters are set in the instance's parameter group: TLS is
// required for every connection (require_secure_transport=ON, which RDS for
// MySQL instance parameter groups spell 1; "ON" is only accepted by cluster
// parameter groups), and the slow query log is written to a file so that it
// can be exported.
var DatabaseParameters = map[string]string{
	"require_secure_transport": "1",
	"slow_query_log":           "1",
	"long_query_time":          "2",
	"log_output":               "FILE",
}

// AuditEvents is what the MariaDB Audit Plugin records: connections and
// failed logins only. Query events would record the rotation's
// ALTER USER ... IDENTIFIED BY statements, i.e. passwords.
const AuditEvents = "CONNECT"

var notIdentifierChar = regexp.MustCompile(`[^a-z0-9]+`)

// dbInstanceIdentifier derives the RDS instance identifier from the stack
// name ("SecretRotation-dev-Database" -> "secretrotation-dev-database"). It
// is fixed rather than generated so that the log groups of the log exports
// (/aws/rds/instance/<id>/<log>) can be created, encrypted and with
// retention, before the instance writes to them.
func dbInstanceIdentifier(stackName string) string {
	id := strings.Trim(notIdentifierChar.ReplaceAllString(strings.ToLower(stackName), "-"), "-")
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "db-" + id
	}
	if len(id) > 63 {
		id = strings.TrimRight(id[:63], "-")
	}
	return id
}

// newDatabaseLogGroups creates the log groups the instance's log exports
// write to, encrypted with the environment's logs key and with its retention.
func newDatabaseLogGroups(scope constructs.Construct, identifier string, key awskms.IKey, env config.Environment) []awslogs.LogGroup {
	var groups []awslogs.LogGroup
	for _, name := range DatabaseLogExports {
		groups = append(groups, awslogs.NewLogGroup(scope, jsii.String("DatabaseLog-"+name), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String("/aws/rds/instance/" + identifier + "/" + name),
			Retention:     retentionDays[env.LogRetentionDays],
			EncryptionKey: key,
			RemovalPolicy: plainRemovalPolicy(env),
		}))
	}
	return groups
}

// newDatabaseParameterGroup requires TLS and enables the slow query log.
func newDatabaseParameterGroup(scope constructs.Construct, engine awsrds.IInstanceEngine) awsrds.ParameterGroup {
	params := map[string]*string{}
	for k, v := range DatabaseParameters {
		params[k] = jsii.String(v)
	}
	return awsrds.NewParameterGroup(scope, jsii.String("ParameterGroup"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String("TLS required (require_secure_transport=ON); slow query log for export"),
		Parameters:  &params,
	})
}

// newDatabaseOptionGroup installs the MariaDB Audit Plugin (supported on
// RDS for MySQL 8.0.28+ and 8.4) recording connection events.
func newDatabaseOptionGroup(scope constructs.Construct, engine awsrds.IInstanceEngine) awsrds.OptionGroup {
	return awsrds.NewOptionGroup(scope, jsii.String("OptionGroup"), &awsrds.OptionGroupProps{
		Engine:      engine,
		Description: jsii.String("MariaDB Audit Plugin: connection events for the audit log export"),
		Configurations: &[]*awsrds.OptionConfiguration{{
			Name:     jsii.String("MARIADB_AUDIT_PLUGIN"),
			Settings: &map[string]*string{"SERVER_AUDIT_EVENTS": jsii.String(AuditEvents)},
		}},
	})
}

// suppressDatabaseFindings records the reviewed exceptions on the instance:
// the ones that hold in every environment, and the development-only ones
// exactly when the configuration makes them true.
func suppressDatabaseFindings(db awsrds.DatabaseInstance, env config.Environment) {
	s := []compliance.Suppression{
		{Rule: "NIST.800.53.R5-RDSInBackupPlan", Reason: ReasonBackupPlan},
		{Rule: "NIST.800.53.R5-RDSLoggingEnabled", Reason: ReasonGeneralLog, AppliesTo: []string{"LogExport::general"}},
	}
	if env.DatabasePort == 3306 {
		s = append(s, compliance.Suppression{Rule: "AwsSolutions-RDS11", Reason: ReasonDefaultPort})
	}
	if !env.MultiAz {
		s = append(s,
			compliance.Suppression{Rule: "AwsSolutions-RDS3", Reason: ReasonSingleAZ},
			compliance.Suppression{Rule: "NIST.800.53.R5-RDSMultiAZSupport", Reason: ReasonSingleAZ})
	}
	if !env.DeletionProtection {
		s = append(s,
			compliance.Suppression{Rule: "AwsSolutions-RDS10", Reason: ReasonNoDeletionProtection},
			compliance.Suppression{Rule: "NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled", Reason: ReasonNoDeletionProtection})
	}
	compliance.MustSuppress(db, s...)
	if role, ok := db.Node().TryFindChild(jsii.String("MonitoringRole")).(constructs.IConstruct); ok && role != nil {
		compliance.MustSuppress(role, compliance.Suppression{
			Rule: "AwsSolutions-IAM4", Reason: ReasonMonitoringRole,
			AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"},
		})
	}
}
