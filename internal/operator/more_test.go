package operator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/operator"
)

// A secret whose AWSPREVIOUS is another user is alternating-users
// rotation, and verify says so.
func TestVerifyAlternatingUsers(t *testing.T) {
	r := newRig(t, "u_alt")
	if err := db.CreateUser(ctxT(t), "u_alt_clone", "clone-pw"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DropUser(context.Background(), "u_alt_clone") })
	clone := strings.Replace(r.value("clone-pw"), `"u_alt"`, `"u_alt_clone"`, 1)
	if _, err := r.client.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(r.secret), SecretString: aws.String(clone),
		ClientRequestToken: aws.String(r.token("clone")), VersionStages: []string{"AWSCURRENT"},
	}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := r.run("verify", r.secret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "verify_alternating_users", out, errOut, code)
}

// failingStage is the real client with UpdateSecretVersionStage denied.
type failingStage struct {
	operator.SecretsManager
}

var errDenied = errors.New("AccessDeniedException: not allowed to update version stages")

func (failingStage) UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	return nil, errDenied
}

// A repair whose label change is denied reports the failed action and
// the API error, and exits 1.
func TestRepairDeniedUpdate(t *testing.T) {
	r := newRig(t, "u_denied")
	r.put("pending", "pending-pw", "AWSPENDING")
	dialer, err := mysql.NewDialer(mysql.WithCABundlePEM(db.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	op := operator.New(failingStage{r.client}, operator.DBChecker{Engine: mysql.NewEngine(dialer)}, operator.WithStuckAfter(0))
	rep, err := op.Repair(ctxT(t), r.secret, false)
	if !errors.Is(err, errDenied) || rep.Applied {
		t.Fatalf("Repair = %+v, %v; want the denial and nothing applied", rep, err)
	}
	if !strings.Contains(err.Error(), "remove AWSPENDING") {
		t.Fatalf("error %q does not say which change failed", err)
	}
}

// Rotate with a TokenPrefix (the doctor's retries) starts the rotation
// with a ClientRequestToken of 32..64 characters that Secrets Manager
// (smlocal: the same length rule) takes as the new version's id, and a
// failure names the LogGroup the caller knows instead of a guess.
func TestRotateTokenPrefixAndLogGroup(t *testing.T) {
	r := newRig(t, "u_prefix")
	r.enableRotation(brokenFunction)
	rep, err := r.operator().Rotate(ctxT(t), r.secret, operator.RotateOptions{Wait: true, Timeout: 300 * time.Millisecond,
		TokenPrefix: "doctor-", LogGroup: "/rotation/test/function"})
	if err == nil || rep == nil {
		t.Fatalf("the broken function's rotation succeeded: %+v", rep)
	}
	if !strings.HasPrefix(rep.Version, "doctor-") || len(rep.Version) < operator.MinTokenLen || len(rep.Version) > operator.MaxTokenLen {
		t.Errorf("version %q: want the prefix doctor- and 32..64 characters", rep.Version)
	}
	if st := r.stages(); st["AWSPENDING"] != rep.Version {
		t.Errorf("stages %v: want AWSPENDING on %s", st, rep.Version)
	}
	if !strings.Contains(err.Error(), "CloudWatch log group /rotation/test/function") || rep.LogGroup != "/rotation/test/function" {
		t.Errorf("error %q, log group %q: want the caller's log group", err, rep.LogGroup)
	}
}
