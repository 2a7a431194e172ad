// Command bootstrap is the rotation doctor function (issue 14): triggered
// by Secrets Manager's rotation failure events, the rotation function's
// error alarm, or on demand ({"secretId":"..."} or {}), it diagnoses the
// secret from inside the VPC, repairs what rotatectl's guard allows,
// retries the rotation once and publishes a report to SNS. The logic is
// package internal/doctor; this file only reads the configuration
// (doctor.ConfigFromEnv) and wires the SDK clients (Secrets Manager,
// SNS, CloudWatch Logs) and the MySQL dialer, which trusts the Amazon RDS
// CAs built in (internal/rdsca) plus DB_CA_BUNDLE, as the rotation
// function's does.
//
// Built like the rotation function (see lambda/rotation).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/operator"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := doctor.ConfigFromEnv(os.Getenv)
	if err != nil {
		fatal(logger, "invalid configuration", err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fatal(logger, "load AWS configuration", err)
	}
	sm := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = &cfg.Endpoint
		}
	})
	dialer, err := mysql.NewDialer(mysql.WithCABundleFile(cfg.CABundle))
	if err != nil {
		fatal(logger, "database TLS configuration ("+doctor.EnvCABundle+")", err)
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = fmt.Sprintf("https://secretsmanager.%s.amazonaws.com", awsCfg.Region)
	}
	d := doctor.New(sm, operator.DBChecker{Dialer: dialer},
		doctor.WithConfig(cfg),
		doctor.WithNetwork(doctor.Network{TLSConfig: dialer.TLSConfig}),
		doctor.WithSecretsManagerEndpoint(endpoint),
		doctor.WithLogs(cloudwatchlogs.NewFromConfig(awsCfg)),
		doctor.WithPublisher(sns.NewFromConfig(awsCfg)),
		doctor.WithLogger(logger))
	logger.Info("rotation doctor started", "environment", cfg.Environment, "repair", cfg.Repair, "stuck_after", cfg.StuckAfter.String())
	lambda.Start(d.Handle)
}

// fatal logs an init failure as JSON and exits; Lambda reports the init
// error (Runtime.ExitError).
func fatal(l *slog.Logger, msg string, err error) {
	l.Error(msg, "error", err.Error())
	os.Exit(1)
}
