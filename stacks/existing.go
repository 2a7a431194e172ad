package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// newExistingDatabase fills stack for a database this app does not create:
// the function is admitted to its port through its security group (a rule
// in this stack), its users get their secrets and rotations, and its master
// secret is rotated only with rotateMaster. Nothing of the database itself
// is created or changed.
func newExistingDatabase(stack awscdk.Stack, props *DatabaseStackProps, env config.Environment, d config.Database) (*DatabaseStack, error) {
	x := d.Existing
	port := awsec2.Port_Tcp(jsii.Number(d.Port()))
	sg := awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("DatabaseSecurityGroup"), jsii.String(x.SecurityGroupID), nil)
	conns := awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{sg}, DefaultPort: port})
	master := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("MasterSecret"), jsii.String(x.MasterSecretArn))
	var masterKey awskms.IKey
	if x.MasterKeyArn != "" {
		masterKey = awskms.Key_FromKeyArn(stack, jsii.String("MasterKey"), jsii.String(x.MasterKeyArn))
	}
	out := &DatabaseStack{Stack: stack, Secret: master, SecretKey: masterKey, SecurityGroup: sg, Connections: conns, Port: d.Port(),
		UserSecretNamePrefix: env.SecretNamePrefix()}

	if x.RotateMaster {
		// An imported secret has no resource policy this app may change,
		// so this rotation is a managed policy on the function's role
		// (config limits how many).
		rotation, err := rotationcdk.NewSecretRotation(stack, "RotationSchedule", &rotationcdk.SecretRotationProps{
			Function:      props.RotationFunction,
			Secret:        master,
			EncryptionKey: masterKey,
			Database:      conns,
			Port:          port,
			Schedule:      rotationSchedule(env),
			Window:        time.Duration(env.RotationWindowHours) * time.Hour,
		})
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", env.Name, err)
		}
		out.Rotation = rotation
	}
	if len(d.Users) > 0 {
		// The users' secrets get a key of their own: the master's key (if
		// any) belongs to whoever created the database.
		key := newKey(stack, "UserSecretsKey", "application user secrets of existing database "+d.Name, env)
		allowReadsThroughSecretsManager(key)
		out.Key = key
		users, err := newUserSecrets(stack, userSecretsProps{
			env: env, database: d, function: props.RotationFunction, key: key, connections: conns,
			host: jsii.String(x.Endpoint), master: master, masterKey: masterKey,
			masterRotation: out.Rotation, // nil without rotateMaster: nothing to wait for
		})
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", env.Name, err)
		}
		out.Users = users
	}
	output(stack, "DatabaseEndpoint", jsii.String(x.Endpoint), "database host name (existing instance "+x.InstanceIdentifier+")")
	output(stack, "DatabasePort", jsii.String(fmt.Sprint(d.Port())), "database port")
	return out, nil
}
