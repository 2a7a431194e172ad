// Package localenv assembles the whole rotation setup on loopback for the
// local demo (cmd/demo) and the load run (connect's TestLoad): a
// throwaway MariaDB with TLS (internal/testdb), the local Secrets Manager
// endpoint (internal/smlocal), the rotation function, a database user and
// its secret with rotation configured.
//
// The rotation function is either the compiled lambda/rotation bootstrap
// running under the Lambda Runtime Interface Emulator
// (internal/lambdarun), exactly what Lambda runs, or the same handler in
// process ([WithInProcessFunction]), which is cheaper for short tests.
// Either way smlocal calls it for RotateSecret as the service would.
// [WithApplicationUsers] adds application users of the same database,
// rotated with alternating users by the same function.
package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/testkit/lambdarun"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// FunctionARN is the rotation function's ARN inside the local setup.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql"

// rotationPackage is the main package of the rotation function.
const rotationPackage = "github.com/example/secret-rotation/lambda/rotation"

// Env is a running local setup. Close stops everything.
type Env struct {
	DB       *testdb.Server
	SM       *smlocal.Server
	Client   *secretsmanager.Client
	Function *lambdarun.Function // nil with WithInProcessFunction
	SecretID string              // the secret's name
	User     string
	// Invoker is what smlocal calls for FunctionARN; RegisterFunction
	// can wrap it (the demo breaks one rotation that way).
	Invoker smlocal.Invoker
	// AppUsers are the application users of [WithApplicationUsers].
	AppUsers []AppUser
	workDir  string
}

// Option configures Start.
type Option func(*options)

type options struct {
	inProcess bool
	appUsers  []string
}

// WithInProcessFunction runs the rotation handler in process instead of
// the compiled function under the emulator.
func WithInProcessFunction() Option { return func(o *options) { o.inProcess = true } }

// Start brings the setup up. On error everything already started is
// stopped again.
func Start(ctx context.Context, opts ...Option) (env *Env, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e := &Env{SecretID: "demo/app/mysql", User: "app"}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.workDir, err = os.MkdirTemp("", "localenv-"); err != nil {
		return nil, err
	}
	if e.DB, err = testdb.Start(ctx); err != nil {
		return nil, fmt.Errorf("start MariaDB: %w", err)
	}
	if e.SM, err = smlocal.Start(); err != nil {
		return nil, fmt.Errorf("start Secrets Manager endpoint: %w", err)
	}
	e.Client = e.SM.NewClient(ctx)
	if o.inProcess {
		dialer, err := mysql.NewDialer(mysql.WithCABundleFile(e.DB.CAFile()))
		if err != nil {
			return nil, err
		}
		h := rotation.New(e.Client, mysql.NewEngine(dialer), rotation.WithLogger(slog.New(slog.DiscardHandler)))
		e.Invoker = smlocal.InvokerFunc(func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
			return h.Handle(ctx, ev)
		})
	} else {
		bootstrap, err := lambdarun.BuildFunction(ctx, rotationPackage, e.workDir)
		if err != nil {
			return nil, err
		}
		e.Function, err = lambdarun.Start(ctx, bootstrap, map[string]string{
			rotation.EnvSecretsManagerEndpoint: e.SM.URL(),
			rotation.EnvCABundle:               e.DB.CAFile(),
		})
		if err != nil {
			return nil, err
		}
		e.Invoker = &serialInvoker{next: smlocal.HTTPInvoker(e.Function.InvokeURL())}
	}
	e.SM.RegisterFunction(FunctionARN, e.Invoker)

	if err := e.DB.CreateUser(ctx, e.User, "initial-Password-1"); err != nil {
		return nil, fmt.Errorf("create database user: %w", err)
	}
	value, _ := json.Marshal(map[string]any{ // a map of strings and ints cannot fail to encode
		"engine": "mariadb", "host": e.DB.Host(), "port": e.DB.Port(),
		"username": e.User, "password": "initial-Password-1", "ssl": true,
	})
	// The secret is also the master of the application users (appusers.go):
	// bound to their secrets, "demo/app/...", as the stacks tag a master.
	if _, err := e.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(e.SecretID), SecretString: aws.String(string(value)),
		Tags: []types.Tag{{Key: aws.String(rotation.MasterBindingTag),
			Value: aws.String("arn:aws:secretsmanager:" + e.SM.Region() + ":123456789012:secret:" + AppUserSecretPrefix)}},
	}); err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	// Configure rotation without rotating yet.
	if _, err := e.Client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String(e.SecretID), RotationLambdaARN: aws.String(FunctionARN),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
		RotateImmediately: aws.Bool(false),
	}); err != nil {
		return nil, fmt.Errorf("configure rotation: %w", err)
	}
	if err := e.SM.WaitForRotations(ctx); err != nil {
		return nil, err
	}
	if len(o.appUsers) > 0 {
		if err := e.startAppUsers(ctx, o.appUsers); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Operator returns the rotatectl logic wired to this setup.
func (e *Env) Operator(opts ...operator.Option) (*operator.Operator, error) {
	dialer, err := mysql.NewDialer(mysql.WithCABundleFile(e.DB.CAFile()))
	if err != nil {
		return nil, err
	}
	return operator.New(e.Client, operator.DBChecker{Engine: mysql.NewEngine(dialer)},
		append([]operator.Option{operator.WithPollInterval(50 * time.Millisecond)}, opts...)...), nil
}

// Close stops the function, the endpoint and the database and removes
// the working directory.
func (e *Env) Close() error {
	var errs []error
	if e.Function != nil {
		errs = append(errs, e.Function.Close())
	}
	if e.SM != nil {
		errs = append(errs, e.SM.Close())
	}
	if e.DB != nil {
		errs = append(errs, e.DB.Stop())
	}
	if e.workDir != "" {
		errs = append(errs, os.RemoveAll(e.workDir))
	}
	return errors.Join(errs...)
}

// serialInvoker lets one invocation at a time through to the emulator,
// which, like one Lambda execution environment, handles one at a time:
// rotations of two secrets at once (the application users) otherwise
// left both stuck at their first step until they timed out (seen with
// the load test's concurrent rotations).
type serialInvoker struct {
	mu   sync.Mutex
	next smlocal.Invoker
}

func (s *serialInvoker) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next.Invoke(ctx, ev)
}
