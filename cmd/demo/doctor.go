package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/testkit/localenv"
)

// doctorRepairs breaks one more rotation (the function crashes at
// finishSecret) and hands the failure event to the rotation doctor, as
// EventBridge would: it diagnoses, repairs, retries the rotation once
// and publishes its report, printed here instead of sent to SNS.
func doctorRepairs(ctx context.Context, w io.Writer, env *localenv.Env) error {
	env.SM.RegisterFunction(localenv.FunctionARN, crashAtFinish{env.Invoker})
	_, err := env.Client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(env.SecretID)})
	if err == nil {
		err = env.SM.WaitForRotations(ctx)
	}
	env.SM.RegisterFunction(localenv.FunctionARN, env.Invoker)
	if err != nil {
		return err
	}
	if len(env.SM.RotationErrors()) == 0 {
		return errors.New("the broken rotation unexpectedly succeeded")
	}
	desc, err := env.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(env.SecretID)})
	if err != nil {
		return err
	}
	event, _ := json.Marshal(map[string]any{ // maps of strings cannot fail to encode
		"source": doctor.SourceSecretsManager, "detail-type": doctor.DetailTypeServiceEvent,
		"detail": map[string]any{"eventName": "RotationFailed", "additionalEventData": map[string]string{"SecretId": aws.ToString(desc.ARN)}},
	})
	fmt.Fprintf(w, "    EventBridge delivers RotationFailed for %s to the doctor\n", env.SecretID)
	dialer, err := mysql.NewDialer(mysql.WithCABundleFile(env.DB.CAFile()))
	if err != nil {
		return err
	}
	d := doctor.New(env.Client, operator.DBChecker{Dialer: dialer},
		doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:123456789012:rotation-events-demo", Repair: true,
			RotationFunctionARN: localenv.FunctionARN, Environment: "demo", RetryTimeout: doctor.DefaultRetryTimeout}),
		doctor.WithNetwork(doctor.Network{TLSConfig: dialer.TLSConfig}),
		doctor.WithSecretsManagerEndpoint(env.SM.URL()),
		doctor.WithPublisher(printer{indent(w)}),
		doctor.WithOperatorOptions(operator.WithPollInterval(50*time.Millisecond)))
	res, err := d.Handle(ctx, event)
	if err != nil {
		return err
	}
	if len(res.Diagnoses) != 1 || !res.Diagnoses[0].Repaired || !res.Diagnoses[0].Retried || res.Diagnoses[0].Next != "" {
		return fmt.Errorf("the doctor did not repair and retry the rotation: %+v", res.Diagnoses)
	}
	return nil
}

// printer is the SNS topic of the demo: it prints the report.
type printer struct{ w io.Writer }

func (p printer) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	fmt.Fprintf(p.w, "Subject: %s\n\n%s", aws.ToString(in.Subject), aws.ToString(in.Message))
	return &sns.PublishOutput{MessageId: aws.String("demo")}, nil
}
