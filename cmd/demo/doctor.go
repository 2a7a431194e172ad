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
// finishSecret), lets an hour pass (smlocal backdates AWSPENDING: the
// doctor repairs only rotations older than its stuck-after age, 1h as
// deployed) and runs the doctor on the secret, as its hourly sweep (or an
// operator's aws lambda invoke) would: it diagnoses, repairs, retries the
// rotation once and publishes its report, printed here instead of sent to
// SNS. (The failure event itself, minutes after the failure, would only
// report: see docs/doctor.md.)
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
	if err := env.SM.Backdate(env.SecretID, "AWSPENDING", stuckAfter+time.Minute); err != nil {
		return err
	}
	fmt.Fprintf(w, "    an hour later (smlocal backdates AWSPENDING by %s; the doctor repairs only rotations older than %s), the doctor looks at %s\n",
		stuckAfter+time.Minute, stuckAfter, env.SecretID)
	payload, _ := json.Marshal(map[string]string{"secretId": env.SecretID}) // a map of strings cannot fail to encode
	dialer, err := mysql.NewDialer(mysql.WithCABundleFile(env.DB.CAFile()))
	if err != nil {
		return err
	}
	d := doctor.New(env.Client, operator.DBChecker{Engine: mysql.NewEngine(dialer)},
		doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:123456789012:rotation-events-demo", Repair: true, StuckAfter: stuckAfter,
			RotationFunctionARN: localenv.FunctionARN, Environment: "demo", RetryTimeout: doctor.DefaultRetryTimeout}),
		doctor.WithNetwork(doctor.Network{TLSConfig: dialer.TLSConfig}),
		doctor.WithSecretsManagerEndpoint(env.SM.URL()),
		doctor.WithPublisher(printer{indent(w)}),
		doctor.WithOperatorOptions(operator.WithPollInterval(50*time.Millisecond)))
	res, err := d.Handle(ctx, payload)
	if err != nil {
		return err
	}
	if len(res.Diagnoses) != 1 || !res.Diagnoses[0].Repaired || !res.Diagnoses[0].Retried || res.Diagnoses[0].Next != "" {
		return fmt.Errorf("the doctor did not repair and retry the rotation: %+v", res.Diagnoses)
	}
	return nil
}

// stuckAfter is the doctor's stuck-after age in the demo: the deployed
// default, the shortest the configuration accepts.
const stuckAfter = time.Hour

// printer is the SNS topic of the demo: it prints the report.
type printer struct{ w io.Writer }

func (p printer) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	fmt.Fprintf(p.w, "Subject: %s\n\n%s", aws.ToString(in.Subject), aws.ToString(in.Message))
	return &sns.PublishOutput{MessageId: aws.String("demo")}, nil
}
