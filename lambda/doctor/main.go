// Command bootstrap is the rotation doctor function: triggered
// by Secrets Manager's rotation failure events, the rotation function's
// error alarm, or on demand ({"secretId":"..."} or {}), it diagnoses the
// secret from inside the VPC, repairs what rotatectl's guard allows,
// retries the rotation once and publishes a report to SNS. The logic is
// package internal/doctor; this file only reads the configuration
// (doctor.ConfigFromEnv) and wires the SDK clients (Secrets Manager,
// SNS, CloudWatch Logs) and the MySQL dialer, which trusts the Amazon RDS
// CAs built in (internal/rdsca) plus DB_CA_BUNDLE: the start-up wiring of
// the rotation function's main (package internal/lambdainit).
//
// Built like the rotation function (see lambda/rotation).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/lambdainit"
	"github.com/example/secret-rotation/internal/operator"
)

func main() {
	logger := lambdainit.Logger()
	cfg, err := doctor.ConfigFromEnv(os.Getenv)
	if err != nil {
		lambdainit.Fatal(logger, "invalid configuration", err)
	}
	awsCfg := lambdainit.AWSConfig(logger)
	sm := lambdainit.SecretsManager(awsCfg, cfg.Endpoint)
	dialer := lambdainit.Dialer(logger, doctor.EnvCABundle, cfg.CABundle)
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = fmt.Sprintf("https://secretsmanager.%s.amazonaws.com", awsCfg.Region)
	}
	d := doctor.New(sm, operator.DBChecker{Engine: mysql.NewEngine(dialer)},
		doctor.WithConfig(cfg),
		doctor.WithNetwork(doctor.Network{TLSConfig: dialer.TLSConfig}),
		doctor.WithSecretsManagerEndpoint(endpoint),
		doctor.WithLogs(cloudwatchlogs.NewFromConfig(awsCfg)),
		doctor.WithPublisher(sns.NewFromConfig(awsCfg)),
		doctor.WithLogger(logger))
	logger.Info("rotation doctor started", "environment", cfg.Environment, "repair", cfg.Repair, "stuck_after", cfg.StuckAfter.String())
	lambda.Start(d.Handle)
}
