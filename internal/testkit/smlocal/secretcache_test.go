package smlocal_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"
)

// The AWS caching client (aws-secretsmanager-caching-go) works unmodified
// against the endpoint: it reads AWSCURRENT once, serves from its cache and
// a new cache sees a new value. (RefreshNow is not used: it sleeps 2.5-5 s
// by design.)
func TestSecretCacheClientCompatibility(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "app/db", "one")
	cache, err := secretcache.New(func(sc *secretcache.Cache) { sc.Client = c })
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := cache.GetSecretStringWithContext(ctxT(t), "app/db")
		if err != nil || got != "one" {
			t.Fatalf("GetSecretString = %q, %v", got, err)
		}
	}
	calls := srv.Calls("GetSecretValue") + srv.Calls("DescribeSecret")
	if calls == 0 || calls > 2 {
		t.Fatalf("Secrets Manager calls for 3 cached reads = %d, want 1 or 2", calls)
	}
	if _, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("two")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := cache.GetSecretStringWithContext(ctxT(t), "app/db"); got != "one" {
		t.Fatalf("cached value = %q, want the cached one", got)
	}
	fresh, err := secretcache.New(func(sc *secretcache.Cache) { sc.Client = c })
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fresh.GetSecretStringWithContext(ctxT(t), "app/db"); err != nil || got != "two" {
		t.Fatalf("new cache = %q, %v", got, err)
	}
}
