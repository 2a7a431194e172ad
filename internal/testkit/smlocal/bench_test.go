package smlocal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// BenchmarkGetSecretValue measures one SDK GetSecretValue round trip over
// loopback (signing, HTTP, JSON both ways): the fixed cost a test pays per
// Secrets Manager call.
func BenchmarkGetSecretValue(b *testing.B) {
	srv, err := smlocal.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c := srv.NewClient(context.Background())
	ctx := context.Background()
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("b"), SecretString: aws.String(`{"username":"app","password":"x"}`)}); err != nil {
		b.Fatal(err)
	}
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String("b")}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.GetSecretValue(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// Concurrent readers always see a complete value while a writer moves
// AWSCURRENT (run with -race to check the server's locking).
func TestConcurrentReadersAndWriter(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "s", "v0")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for range 25 {
				out, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", w, err)
					return
				}
				if len(out.VersionStages) == 0 || aws.ToString(out.SecretString) == "" {
					errs <- fmt.Errorf("reader %d: incomplete %+v", w, out)
					return
				}
			}
		})
	}
	for i := 1; i <= 25; i++ {
		if _, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint("v", i))}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := srv.Calls("GetSecretValue"); got != 200 {
		t.Fatalf("Calls(GetSecretValue) = %d, want 200", got)
	}
}
