package rotationcdk_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/rotationcdk"
)

// minimalStack is a whole app's stack: an RDS for MySQL instance whose
// generated master secret the Go rotation function rotates every 30 days.
// README.md shows it; TestMinimalApp synthesizes it and runs cdk-nag on it.
func minimalStack(app awscdk.App) (awscdk.Stack, error) {
	stack := awscdk.NewStack(app, jsii.String("Minimal"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	db := awsrds.NewDatabaseInstance(stack, jsii.String("Database"), &awsrds.DatabaseInstanceProps{
		Engine: awsrds.DatabaseInstanceEngine_Mysql(&awsrds.MySqlInstanceEngineProps{
			Version: awsrds.MysqlEngineVersion_VER_8_4_7(),
		}),
		InstanceType:     awsec2.NewInstanceType(jsii.String("t4g.micro")),
		Vpc:              vpc,
		StorageEncrypted: jsii.Bool(true),
		Credentials:      awsrds.Credentials_FromGeneratedSecret(jsii.String("admin"), nil),
	})
	fn, err := rotationcdk.NewRotationFunction(stack, "RotationFunction", &rotationcdk.RotationFunctionProps{Vpc: vpc})
	if err != nil {
		return nil, err
	}
	_, err = rotationcdk.NewSecretRotation(stack, "MasterRotation", &rotationcdk.SecretRotationProps{
		Function:  fn,
		Secret:    db.Secret(),
		Database:  db,
		Schedule:  rotationcdk.RotateEvery(30),
		DependsOn: []constructs.IDependable{db},
	})
	return stack, err
}

// A rotated RDS for MySQL master secret: the function, and rotation
// attached to the instance's generated secret.
func Example() {
	app := awscdk.NewApp(nil)
	if _, err := minimalStack(app); err != nil {
		panic(err) // a real app reports the error and exits non-zero
	}
	app.Synth(nil)
}
