// Package lambdainit is the start-up wiring the Lambda functions'
// mains (lambda/rotation, lambda/doctor) share: the JSON logger, the
// fatal init error, the AWS SDK configuration, the Secrets Manager
// client with its endpoint override, and the MySQL dialer that trusts
// the Amazon RDS CAs built in (internal/rdsca) plus a CA bundle file.
//
// The helpers that can fail log the failure and exit (see [Fatal]): a
// function that cannot start has nothing else to do.
package lambdainit

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine/mysql"
)

// Logger returns the functions' logger: JSON lines on stdout, which
// Lambda sends to CloudWatch Logs.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, nil))
}

// Fatal logs an init failure as JSON and exits; Lambda reports the init
// error (Runtime.ExitError), and Secrets Manager retries a rotation later.
func Fatal(l *slog.Logger, msg string, err error) {
	l.Error(msg, "error", err.Error())
	os.Exit(1)
}

// AWSConfig loads the standard AWS configuration (the function's role and
// region), or exits through [Fatal].
func AWSConfig(l *slog.Logger) aws.Config {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		Fatal(l, "load AWS configuration", err)
	}
	return cfg
}

// SecretsManager returns the Secrets Manager client of cfg; endpoint, when
// not empty, overrides its endpoint URL.
func SecretsManager(cfg aws.Config, endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = &endpoint
		}
	})
}

// Dialer returns the MySQL dialer whose TLS trusts the system roots, the
// Amazon RDS CAs and the PEM file caBundle ("" for none), with opts
// applied after; or exits through [Fatal], naming caEnv, the variable
// caBundle was read from.
func Dialer(l *slog.Logger, caEnv, caBundle string, opts ...mysql.Option) *mysql.Dialer {
	d, err := mysql.NewDialer(append([]mysql.Option{mysql.WithCABundleFile(caBundle)}, opts...)...)
	if err != nil {
		Fatal(l, "database TLS configuration ("+caEnv+")", err)
	}
	return d
}
