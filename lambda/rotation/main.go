// Command bootstrap is the AWS Secrets Manager rotation function for
// MySQL, Aurora MySQL and MariaDB secrets: single user (the Go replacement
// of SecretsManagerRDSMySQLRotationSingleUser) and, for secrets with
// "masterarn", alternating users (of ...MultiUser).
//
// It only reads its configuration from the environment, wires the AWS SDK
// Secrets Manager client and the database connector (package
// internal/lambdainit, shared with the doctor function), and hands
// [rotation.Handler.Handle] to the Lambda runtime. The environment
// variables are documented in package internal/rotation (ConfigFromEnv).
//
// Build (what the CDK app does):
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -buildvcs=false \
//	  -tags lambda.norpc -ldflags='-s -w -buildid=' -o bootstrap ./lambda/rotation
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/lambdainit"
	"github.com/example/secret-rotation/internal/rdsca"
	"github.com/example/secret-rotation/internal/rotation"
)

func main() {
	logger := lambdainit.Logger()
	cfg, err := rotation.ConfigFromEnv(os.Getenv)
	if err != nil {
		lambdainit.Fatal(logger, "invalid configuration", err)
	}
	awsCfg := lambdainit.AWSConfig(logger)
	sm := lambdainit.SecretsManager(awsCfg, cfg.Endpoint)
	dialer := lambdainit.Dialer(logger, rotation.EnvCABundle, cfg.CABundle,
		mysql.WithDriverLogger(driverLogger{logger}))
	h := rotation.New(sm, mysql.NewEngine(dialer),
		rotation.WithPasswordPolicy(cfg.Policy),
		rotation.WithAlternatingUsersSecretPrefixes(cfg.AlternatingUsersSecretPrefixes),
		rotation.WithMasterSecretBindings(cfg.MasterSecretBindings),
		rotation.WithMasterSecretBindingRequired(!cfg.MasterSecretBindingOptional),
		rotation.WithLogger(logger))
	logger.Info("rotation function started", "endpoint_override", cfg.Endpoint != "",
		"rds_ca_certificates", len(rdsca.Certificates()), "ca_bundle", cfg.CABundle,
		"alternating_users_secret_prefixes", cfg.AlternatingUsersSecretPrefixes)
	lambda.Start(h.Handle)
}

// driverLogger routes go-sql-driver's connection-level messages (never
// credentials) into the JSON log.
type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Print(v ...any) {
	d.l.Warn("mysql driver", "detail", fmt.Sprint(v...))
}
