package operator_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// Another Secrets Manager answers the last page of ListSecretVersionIds
// with "NextToken": "", or repeats the token it was asked with. Every
// command still ends normally, reading each listing in one or two pages
// (the answers are queued for far more calls than that).
func TestPageTokenFaultsEveryCommand(t *testing.T) {
	faults := []struct {
		name  string
		fault smlocal.PageTokenFault
	}{{"empty", smlocal.EmptyNextToken}, {"repeated", smlocal.RepeatedNextToken}}
	commands := [][]string{{"status"}, {"verify"}, {"repair"}, {"rotate", "--wait", "--timeout", "1m"}}
	for _, f := range faults {
		for _, args := range commands {
			t.Run(f.name+"/"+args[0], func(t *testing.T) {
				r := newRig(t, fmt.Sprintf("u_pages_%s_%s", f.name, args[0]))
				r.enableRotation(goodFunction)
				r.sm.PageTokenNext("ListSecretVersionIds", 200, f.fault)
				lists, describes := r.sm.Calls("ListSecretVersionIds"), r.sm.Calls("DescribeSecret")
				out, errOut, code := r.run(append(args, r.secret)...)
				if code != operator.ExitOK {
					t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
				}
				lists, describes = r.sm.Calls("ListSecretVersionIds")-lists, r.sm.Calls("DescribeSecret")-describes
				// Each snapshot is one DescribeSecret and one listing; the
				// rotation function's own DescribeSecret calls only loosen this.
				if lists > 2*describes {
					t.Fatalf("%d ListSecretVersionIds calls for %d DescribeSecret calls: the listing did not stop", lists, describes)
				}
			})
		}
	}
}

// endlessPages answers every ListSecretVersionIds with a new NextToken,
// a cycle the SDK's duplicate check cannot see. After 1000 calls it
// stops, so that a client without a page cap ends too (and fails below).
type endlessPages struct {
	operator.SecretsManager
	calls int
}

func (e *endlessPages) ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error) {
	e.calls++
	first := *in
	first.NextToken = nil
	out, err := e.SecretsManager.ListSecretVersionIds(ctx, &first, optFns...)
	if err == nil && e.calls <= 1000 {
		out.NextToken = aws.String(fmt.Sprint("token-", e.calls))
	}
	return out, err
}

func TestVersionPagesAreCapped(t *testing.T) {
	r := newRig(t, "u_pages_endless")
	dialer, err := mysql.NewDialer(mysql.WithCABundlePEM(db.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	sm := &endlessPages{SecretsManager: r.client}
	_, err = operator.New(sm, operator.DBChecker{Engine: mysql.NewEngine(dialer)}).Status(ctxT(t), r.secret)
	if !errors.Is(err, operator.ErrTooManyPages) || sm.calls != operator.MaxVersionPages {
		t.Fatalf("Status after %d pages: %v; want ErrTooManyPages after %d", sm.calls, err, operator.MaxVersionPages)
	}
}
