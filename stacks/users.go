package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// UserSecretKeys are the keys of an application user's secret, the
// contract with the rotation function (internal/secret), sorted: the template
// holds all but "password", which Secrets Manager generates.
var UserSecretKeys = []string{"dbname", "engine", "grants", "host", "masterarn", "password", "port", "ssl", "userhost", "username"}

// UserSecret is one application user's secret and its rotation.
type UserSecret struct {
	// User is the configured user.
	User config.User
	// Secret is the user's secret (alternating users: "masterarn" names
	// the database's master secret).
	Secret awssecretsmanager.Secret
	// Rotation attaches the function to it.
	Rotation *rotationcdk.SecretRotation
}

// userSecretsProps is what newUserSecrets needs of a database stack.
type userSecretsProps struct {
	env      config.Environment
	database config.Database
	function *rotationcdk.RotationFunction
	// key encrypts the user secrets; the stack owns it.
	key awskms.Key
	// connections admit the function to the database port.
	connections awsec2.IConnectable
	// host is the database endpoint address (a token for a created one).
	host *string
	// master and masterKey are the database's master secret and its key
	// (nil for aws/secretsmanager).
	master    awssecretsmanager.ISecret
	masterKey awskms.IKey
	dependsOn []constructs.IDependable
	// masterRotation is the master's rotation when this stack creates it
	// (nil otherwise): each user's schedule waits for the master's.
	masterRotation *rotationcdk.SecretRotation
}

// newUserSecrets creates, per application user of p.database, a secret in
// the function's alternating-users format and its rotation. The function
// gets each secret through the secret's resource policy, the stack's one
// invoke permission and one policy to read the master: nothing per user on
// its role, so a database's users are bounded by its stack, not by IAM
// quotas. Readers are granted read access with the CDK's grants (the
// secret's resource policy and, through Secrets Manager only, the key
// policy); nobody else is.
func newUserSecrets(stack awscdk.Stack, p userSecretsProps) ([]*UserSecret, error) {
	if len(p.database.Users) == 0 {
		return nil, nil
	}
	users := constructs.NewConstruct(stack, jsii.String("Users"))
	// Each user's first rotation logs in with the master. Creating a
	// schedule starts its secret's first rotation (RotateSecret), so
	// without an order the master's first rotation and every user's start
	// together, and a user's login can meet the master's password mid-
	// change (set in the database before AWSCURRENT moves): one refused
	// master login per user, which counts toward any lockout. Waiting for
	// the master's schedule narrows that window but does not close it:
	// CloudFormation creates a schedule once RotateSecret has started the
	// rotation, which runs asynchronously, so the users' rotations still
	// start while the master's runs (a few seconds in, not at the same
	// instant). A user rotation refused this way fails (RotationFailed,
	// which the failure rule sends to the doctor).
	dependsOn := slices.Clone(p.dependsOn)
	if p.masterRotation != nil {
		dependsOn = append(dependsOn, p.masterRotation.Schedule)
	}
	// The same for every user of the database.
	port := awsec2.Port_Tcp(jsii.Number(p.database.Port()))
	schedule := rotationSchedule(p.env)
	window := time.Duration(p.env.RotationWindowHours) * time.Hour
	var out []*UserSecret
	for _, u := range p.database.Users {
		template, err := userSecretTemplate(p, u)
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", u.Name, err)
		}
		scope := constructs.NewConstruct(users, jsii.String(u.Name))
		// Named under the environment's prefix, so that the failure rule
		// and the doctor watch every user secret of the environment by one
		// ARN prefix (config.Environment.UserSecretName).
		secret := awssecretsmanager.NewSecret(scope, jsii.String("Secret"), &awssecretsmanager.SecretProps{
			SecretName:    jsii.String(p.env.UserSecretName(p.database, u)),
			EncryptionKey: p.key,
			Description: jsii.String(fmt.Sprintf("Application user %s of database %s (%s), alternating users (%s and %s_clone), rotated by the rotation function",
				u.Name, p.database.Name, p.env.Name, u.Name, u.Name)),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String(template),
				GenerateStringKey:    jsii.String("password"),
				PasswordLength:       jsii.Number(p.env.PasswordLength),
				ExcludeCharacters:    jsii.String(p.env.ExcludeCharacters),
			},
			RemovalPolicy: plainRemovalPolicy(p.env),
		})
		protectSecret(stack, secret)
		rotation, err := rotationcdk.NewSecretRotation(scope, "Rotation", &rotationcdk.SecretRotationProps{
			Function:               p.function,
			Secret:                 secret,
			EncryptionKey:          p.key,
			Database:               p.connections,
			Port:                   port,
			Schedule:               schedule,
			Window:                 window,
			DependsOn:              dependsOn,
			MasterSecret:           p.master,
			MasterEncryptionKey:    p.masterKey,
			ResourcePolicies:       true,
			SharedInvokePermission: true,
		})
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", u.Name, err)
		}
		for i, arn := range u.Readers {
			// Immutable, grants on the resources: the app never changes a
			// role it does not own.
			reader := awsiam.Role_FromRoleArn(scope, jsii.String(fmt.Sprintf("Reader%d", i)), jsii.String(arn), &awsiam.FromRoleArnOptions{
				Mutable:              jsii.Bool(false),
				AddGrantsToResources: jsii.Bool(true),
			})
			secret.GrantRead(reader, nil)
		}
		awscdk.NewCfnOutput(scope, jsii.String("SecretArn"), &awscdk.CfnOutputProps{
			Value:       secret.SecretArn(),
			Description: jsii.String("secret of application user " + u.Name),
		})
		out = append(out, &UserSecret{User: u, Secret: secret, Rotation: rotation})
	}
	return out, nil
}

// userSecretTemplate is the secret's JSON without the password. Tokens
// (the endpoint and master ARN of a created database) stay inside JSON
// strings, where the CDK turns them into Fn::Join, as its DatabaseSecret
// does with masterarn.
func userSecretTemplate(p userSecretsProps, u config.User) (string, error) {
	tmpl := map[string]any{
		"engine":    p.database.Engine(),
		"host":      *p.host,
		"port":      p.database.Port(),
		"dbname":    u.DBName,
		"username":  u.Name,
		"masterarn": *p.master.SecretArn(),
		// Verified TLS only, as the master secret (see NewDatabaseStack).
		"ssl":      "true",
		"grants":   u.Grants,
		"userhost": u.UserHost(),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tmpl); err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(buf.Bytes())), nil
}
