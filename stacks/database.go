package stacks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// DatabaseStackProps configures [NewDatabaseStack].
type DatabaseStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment configuration.
	Environment config.Environment
	// Database is the database of Environment this stack holds. Default:
	// the environment's default database.
	Database config.Database
	// Vpc and Subnets place the database (and the operator host).
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// RotationFunction rotates the master secret.
	RotationFunction *rotationcdk.RotationFunction
	// LogsKey encrypts the log groups of the database's log exports.
	LogsKey awskms.IKey
}

// DatabaseStack holds the database, its master secret and the rotation schedule.
type DatabaseStack struct {
	awscdk.Stack
	// Instance is the RDS for MySQL instance.
	Instance awsrds.IDatabaseInstance
	// Secret is the master secret, attached to the instance, as a reference
	// whose grants go to the grantee's IAM policy only (its key allows reads
	// through Secrets Manager), so stacks deployed after this one can be
	// granted access.
	Secret awssecretsmanager.ISecret
	// SecurityGroup is the database's group.
	SecurityGroup awsec2.ISecurityGroup
	// Connections admit clients to the database (the instance, or an
	// existing database's group).
	Connections awsec2.IConnectable
	// Port is the database port.
	Port int
	// SecretKey is the master secret's customer-managed key (Key for a
	// database this app creates), nil for aws/secretsmanager.
	SecretKey awskms.IKey
	// Key is the customer-managed KMS key of the secret and the database storage.
	Key awskms.IKey
	// Rotation is the master secret's rotation: policy, permission, schedule.
	Rotation *rotationcdk.SecretRotation
	// OperatorHost is the SSM-managed client host, nil unless enabled.
	OperatorHost awsec2.Instance
	// Users are the application users' secrets and rotations, in the
	// order of the configuration.
	Users []*UserSecret
	// UserSecretNamePrefix starts the names of Users' secrets (the
	// environment's config.Environment.SecretNamePrefix).
	UserSecretNamePrefix string
}

// NewDatabaseStack creates the database, its generated and attached master
// secret, and everything linking the rotation function to them (policy,
// invoke permission, security-group rules, rotation schedule), so that all
// cross-stack references point from this stack to the rotation stack.
func NewDatabaseStack(scope constructs.Construct, id string, props *DatabaseStackProps) (*DatabaseStack, error) {
	d := props.Database
	if d.Name == "" {
		d = props.Environment.DatabaseList()[0]
	}
	// From here on env's database settings are d's.
	env := props.Environment.WithDatabase(d)
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	tagStack(stack, env)
	if d.Existing != nil {
		return newExistingDatabase(stack, props, env, d)
	}
	port := awsec2.Port_Tcp(jsii.Number(env.DatabasePort))

	// "ssl": "true" makes every client of the secret (rotation function,
	// connect library, rotatectl) use verified TLS only. Without the key
	// AWS's rule is "TLS, then plain text", and plain text would reach
	// anything that answers in the database's place: the password change
	// travels in the SQL text. The server requires TLS anyway
	// (require_secure_transport, dbhardening.go).
	template, err := json.Marshal(map[string]string{"username": env.MasterUsername, "ssl": "true"})
	if err != nil {
		return nil, fmt.Errorf("secret template: %w", err)
	}
	key := newKey(stack, "DatabaseKey", "RDS storage and master secret encryption"+ofDatabase(d), env)
	allowReadsThroughSecretsManager(key)
	secret := awssecretsmanager.NewSecret(stack, jsii.String("MasterSecret"), &awssecretsmanager.SecretProps{
		EncryptionKey: key,
		Description:   jsii.String("RDS for MySQL master credentials (" + env.Name + ofDatabase(d) + "), rotated by the rotation function"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(string(template)),
			GenerateStringKey:    jsii.String("password"),
			PasswordLength:       jsii.Number(env.PasswordLength),
			ExcludeCharacters:    jsii.String(env.ExcludeCharacters),
		},
		RemovalPolicy: plainRemovalPolicy(env),
	})
	protectSecret(stack, secret)
	if len(d.Users) > 0 {
		// The function reads this master, and acts as its user, only for
		// this database's user secrets: the tag names their ARN prefix, and
		// whoever can write a user secret cannot change it (docs/security.md).
		// Without users the master keeps the tags it was deployed with.
		if err := rotationcdk.BindMasterSecret(secret, userSecretARNPrefix(env, d)); err != nil {
			return nil, fmt.Errorf("environment %s: %w", env.Name, err)
		}
	}

	dbSG := awsec2.NewSecurityGroup(stack, jsii.String("DatabaseSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("RDS for MySQL: database port from the rotation function (and operator host) only"),
		AllowAllOutbound: jsii.Bool(false),
	})

	removal := dataRemovalPolicy(env)
	engine := awsrds.DatabaseInstanceEngine_Mysql(&awsrds.MySqlInstanceEngineProps{
		Version: awsrds.MysqlEngineVersion_Of(jsii.String(env.EngineVersion), jsii.String(env.EngineMajorVersion())),
	})
	identifier := dbInstanceIdentifier(*stack.StackName())
	logGroups := newDatabaseLogGroups(stack, identifier, props.LogsKey, env)
	db := awsrds.NewDatabaseInstance(stack, jsii.String("Database"), &awsrds.DatabaseInstanceProps{
		InstanceIdentifier:      jsii.String(identifier),
		Engine:                  engine,
		ParameterGroup:          newDatabaseParameterGroup(stack, engine),
		OptionGroup:             newDatabaseOptionGroup(stack, engine),
		InstanceType:            awsec2.NewInstanceType(jsii.String(env.InstanceTypeName())),
		Vpc:                     props.Vpc,
		VpcSubnets:              props.Subnets,
		SecurityGroups:          &[]awsec2.ISecurityGroup{dbSG},
		Port:                    jsii.Number(env.DatabasePort),
		Credentials:             awsrds.Credentials_FromSecret(secret, jsii.String(env.MasterUsername)),
		AllocatedStorage:        jsii.Number(env.AllocatedStorageGiB),
		StorageType:             awsrds.StorageType_GP3,
		StorageEncrypted:        jsii.Bool(true),
		StorageEncryptionKey:    key,
		CloudwatchLogsExports:   jsii.Strings(DatabaseLogExports...),
		MonitoringInterval:      awscdk.Duration_Seconds(jsii.Number(60)),
		MultiAz:                 jsii.Bool(env.MultiAz),
		PubliclyAccessible:      jsii.Bool(false),
		AutoMinorVersionUpgrade: jsii.Bool(true),
		BackupRetention:         awscdk.Duration_Days(jsii.Number(env.BackupRetentionDays)),
		DeleteAutomatedBackups:  jsii.Bool(env.RemovalPolicy == config.RemovalDestroy),
		DeletionProtection:      jsii.Bool(env.DeletionProtection),
		RemovalPolicy:           removal,
		CopyTagsToSnapshot:      jsii.Bool(true),
		// Explicit, not the RDS default: an account can override the CA of
		// new instances (ModifyCertificates), and the function trusts the
		// roots of the identifiers config accepts (package rdsca). See
		// "Using SSL/TLS to encrypt a connection to a DB instance or
		// cluster", RDS User Guide:
		// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
		CaCertificate: awsrds.CaCertificate_Of(jsii.String(env.CACertificateIdentifier)),
	})
	// Credentials_FromSecret makes the instance attach the secret
	// (AWS::SecretsManager::SecretTargetAttachment), which adds host, port,
	// engine and dbInstanceIdentifier to it; Secret() is the attached secret.
	attached := db.Secret()
	for _, g := range logGroups {
		db.Node().AddDependency(g) // RDS would otherwise create them, unencrypted and kept forever
	}
	suppressDatabaseFindings(db, env)

	// The function rotates the attached secret: the security-group rules
	// function -> database port, the policy on its role for this secret and
	// key, Secrets Manager's invoke permission for this secret, and the
	// schedule, all in this stack (rotationcdk.NewSecretRotation). Ids:
	// "RotationSchedule" makes the schedule keep its logical id; the
	// policy and the permission keep theirs through keepLogicalID.
	//
	// The default database's master keeps today's managed policy; any
	// other database's goes through the secret's and key's policies, so
	// the function's role stays within its quotas however many databases
	// there are (see rotationcdk.SecretRotationProps). Every master has an
	// invoke permission of its own (SourceArn: the attached secret): the
	// stack's shared permission admits only the environment's user
	// secrets when there are users (SourceArn "<prefix>*"), and a master is
	// unnamed, outside that prefix. The function's resource policy (20 KB)
	// then holds at most config.MaxDatabases (15) per-master statements
	// and one shared statement per database stack with users, about 30 of
	// ~500 bytes: some 15 KB.
	rotation, err := rotationcdk.NewSecretRotation(stack, "RotationSchedule", &rotationcdk.SecretRotationProps{
		Function:         props.RotationFunction,
		Secret:           attached,
		EncryptionKey:    key,
		Database:         db,
		Port:             port,
		Schedule:         rotationSchedule(env),
		Window:           time.Duration(env.RotationWindowHours) * time.Hour,
		DependsOn:        []constructs.IDependable{db},
		ResourcePolicies: !d.IsDefault(),
	})
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	if d.IsDefault() {
		keepLogicalID(rotation.Policy, "RotationFunctionPolicy6A2BEAE6")
		keepLogicalID(rotation.Permission, "AllowSecretsManagerInvoke")
	}

	// Others (the pipeline's post-deploy check) are granted access through a
	// reference to the attached secret: grants go into the grantee's IAM
	// policy only, and decryption is allowed by the key policy's Secrets
	// Manager statement (allowReadsThroughSecretsManager). Granting through
	// the secret's own key object would write the grantee's role into this
	// stack's key policy and make this stack depend on the grantee's, a cycle
	// when the grantee depends on this one.
	grantable := awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String("MasterSecretReference"), &awssecretsmanager.SecretAttributes{
		SecretCompleteArn: attached.SecretArn(),
	})
	out := &DatabaseStack{Stack: stack, Instance: db, Secret: grantable, Key: key, SecretKey: key, SecurityGroup: dbSG, Rotation: rotation,
		Connections: db, Port: env.DatabasePort, UserSecretNamePrefix: env.SecretNamePrefix()}
	out.Users, err = newUserSecrets(stack, userSecretsProps{
		env: env, database: d, function: props.RotationFunction, key: key, connections: db,
		host: db.DbInstanceEndpointAddress(), master: attached, masterKey: key,
		dependsOn: []constructs.IDependable{db}, masterRotation: rotation,
	})
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	// The operator host belongs to the environment (the default database's
	// stack); only that database admits it.
	if env.OperatorAccess && d.IsDefault() {
		out.OperatorHost = newOperatorHost(stack, props.Vpc, props.Subnets)
		db.Connections().AllowFrom(out.OperatorHost, port, jsii.String("Operator access host"))
	}

	output(stack, "DatabaseEndpoint", db.DbInstanceEndpointAddress(), "database host name")
	output(stack, "DatabasePort", db.DbInstanceEndpointPort(), "database port")
	output(stack, "SecretArn", secret.SecretArn(), "master secret ARN")
	output(stack, "SecretName", secret.SecretName(), "master secret name")
	return out, nil
}

// rotationSchedule is the database's rotation schedule: every rotationDays
// days, or rotationSchedule when set.
func rotationSchedule(env config.Environment) rotationcdk.Schedule {
	if env.RotationSchedule != "" {
		return rotationcdk.RotateOn(env.RotationSchedule)
	}
	return rotationcdk.RotateEvery(env.RotationDays)
}

// ofDatabase names a database other than the default in descriptions
// (the default's keep the texts they were deployed with).
func ofDatabase(d config.Database) string {
	if d.IsDefault() {
		return ""
	}
	return ", database " + d.Name
}
