// Command bootstrap is the AWS Secrets Manager rotation function for
// MySQL, Aurora MySQL and MariaDB secrets: single user (the Go replacement
// of SecretsManagerRDSMySQLRotationSingleUser) and, for secrets with
// "masterarn", alternating users (of ...MultiUser).
//
// It only reads its configuration from the environment, wires the AWS SDK
// Secrets Manager client and the database connector, and hands
// [rotation.Handler.Handle] to the Lambda runtime. The environment
// variables are documented in package internal/rotation (ConfigFromEnv).
//
// Build (what the CDK app does):
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -buildvcs=false \
//	  -tags lambda.norpc -ldflags='-s -w -buildid=' -o bootstrap ./lambda/rotation
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/rdsca"
	"github.com/example/secret-rotation/internal/rotation"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := rotation.ConfigFromEnv(os.Getenv)
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
	dialer, err := mysql.NewDialer(
		mysql.WithCABundleFile(cfg.CABundle),
		mysql.WithDriverLogger(driverLogger{logger}),
	)
	if err != nil {
		fatal(logger, "database TLS configuration ("+rotation.EnvCABundle+")", err)
	}
	h := rotation.New(sm, mysql.NewEngine(dialer),
		rotation.WithPasswordPolicy(cfg.Policy),
		rotation.WithLogger(logger))
	logger.Info("rotation function started", "endpoint_override", cfg.Endpoint != "",
		"rds_ca_certificates", len(rdsca.Certificates()), "ca_bundle", cfg.CABundle)
	lambda.Start(h.Handle)
}

// fatal logs an init failure as JSON and exits; Lambda reports the init
// error (Runtime.ExitError) and Secrets Manager retries the rotation later.
func fatal(l *slog.Logger, msg string, err error) {
	l.Error(msg, "error", err.Error())
	os.Exit(1)
}

// driverLogger routes go-sql-driver's connection-level messages (never
// credentials) into the JSON log.
type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Print(v ...any) {
	d.l.Warn("mysql driver", "detail", fmt.Sprint(v...))
}
