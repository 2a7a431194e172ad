package main_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/testkit/lambdarun"
	"github.com/example/secret-rotation/internal/testkit/logslocal"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/snslocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

const (
	doctorPkg   = "github.com/example/secret-rotation/lambda/doctor"
	rotationPkg = "github.com/example/secret-rotation/lambda/rotation"
	functionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql"
	// sweepFunctionARN is a second environment's rotation function (the
	// same code), whose doctor sweeps only the sweep case's secret.
	sweepFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql-sweep"
	// stuckAfter is the doctors' DOCTOR_STUCK_AFTER: the deployed default
	// and the shortest the configuration accepts. Cases that need an old
	// rotation make it old with smlocal's Backdate.
	stuckAfter = time.Hour
	logGroup   = "/aws/lambda/rotate-mysql"
	topicARN   = "arn:aws:sns:us-east-1:123456789012:rotation-events-local"
)

// One local world shared by every case (each case has its own database
// user and secret): MariaDB, a second MariaDB whose CA nobody trusts,
// smlocal, the compiled rotation function and the compiled doctor under
// the emulator, the local SNS and CloudWatch Logs endpoints.
var w *world

type world struct {
	db, otherDB  *testdb.Server
	sm           *smlocal.Server
	sns          *snslocal.Server
	logs         *logslocal.Server
	rotationFn   *lambdarun.Function
	doctorFn     *lambdarun.Function
	sweepDoctor  *lambdarun.Function // the doctor of sweepFunctionARN's environment
	breaker      *breaker
	proxy        *smProxy // the rotation function's way to smlocal
	handPassword []string // passwords set by hand, for the leak check
	dir          string
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w = &world{}
	defer w.close()
	if err := w.start(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		return 1
	}
	return m.Run()
}

func (w *world) start(ctx context.Context) error {
	var err error
	if w.db, err = testdb.Start(ctx); err != nil {
		return fmt.Errorf("start the test database server: %w", err)
	}
	if w.otherDB, err = testdb.Start(ctx); err != nil {
		return fmt.Errorf("start the second database server: %w", err)
	}
	if w.dir, err = os.MkdirTemp("", "doctor-e2e-"); err != nil {
		return err
	}
	dir := w.dir
	rotBin, err := lambdarun.BuildFunction(ctx, rotationPkg, filepath.Join(dir, "rotation"))
	if err != nil {
		return err
	}
	docBin, err := lambdarun.BuildFunction(ctx, doctorPkg, filepath.Join(dir, "doctor"))
	if err != nil {
		return err
	}
	if w.sm, err = smlocal.Start(smlocal.WithSynchronousRotation()); err != nil {
		return err
	}
	w.sns, w.logs = snslocal.Start(), logslocal.Start()
	if w.proxy, err = startSMProxy(w.sm.URL()); err != nil {
		return err
	}
	w.rotationFn, err = lambdarun.Start(ctx, rotBin, map[string]string{
		rotation.EnvSecretsManagerEndpoint: w.proxy.srv.URL,
		rotation.EnvCABundle:               w.db.CAFile(),
	})
	if err != nil {
		return err
	}
	// The rotation function's output is its log group.
	w.logs.Source(logGroup, func() string { return string(w.rotationFn.Logs()) })
	w.breaker = &breaker{next: smlocal.HTTPInvoker(w.rotationFn.InvokeURL()), logs: w.logs, fail: map[string]string{}}
	w.sm.RegisterFunction(functionARN, w.breaker)
	w.sm.RegisterFunction(sweepFunctionARN, w.breaker)
	doctorEnv := func(fn, env string) map[string]string {
		return map[string]string{
			doctor.EnvTopicARN:                 topicARN,
			doctor.EnvRepair:                   "true",
			doctor.EnvStuckAfter:               stuckAfter.String(),
			doctor.EnvRotationFunctionARN:      fn,
			doctor.EnvRotationLogGroup:         logGroup,
			doctor.EnvEnvironment:              env,
			doctor.EnvSecretsManagerEndpoint:   w.sm.URL(),
			doctor.EnvCABundle:                 w.db.CAFile(),
			"AWS_ENDPOINT_URL_SNS":             w.sns.URL(),
			"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": w.logs.URL(),
			"AWS_LAMBDA_FUNCTION_TIMEOUT":      "120",
		}
	}
	if w.doctorFn, err = lambdarun.Start(ctx, docBin, doctorEnv(functionARN, "local")); err != nil {
		return err
	}
	w.sweepDoctor, err = lambdarun.Start(ctx, docBin, doctorEnv(sweepFunctionARN, "local-sweep"))
	return err
}

func (w *world) close() {
	for _, f := range []*lambdarun.Function{w.doctorFn, w.sweepDoctor, w.rotationFn} {
		if f != nil {
			f.Close()
		}
	}
	if w.sm != nil {
		w.sm.Close()
	}
	if w.proxy != nil {
		w.proxy.srv.Close()
	}
	if w.sns != nil {
		w.sns.Close()
	}
	if w.logs != nil {
		w.logs.Close()
	}
	for _, db := range []*testdb.Server{w.db, w.otherDB} {
		if db != nil {
			db.Stop()
		}
	}
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}
