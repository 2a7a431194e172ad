package connect

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync"

	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/example/secret-rotation/internal/secret"
)

// generation is one view of the secret: a caching client started at a
// refresh, and the credentials built from the values it returned.
type generation struct {
	n     uint64
	id    string
	cache *secretcache.Cache
	c     *Connector

	mu            sync.Mutex
	creds         map[string]*credential // by secret string
	pendingLoaded bool
	pendingCred   *credential
}

// credential is one secret value ready to connect with.
type credential struct {
	stage string
	conn  driver.Connector
	// alternating: the value names a master secret ("masterarn"), so it
	// is rotated with alternating users (see tryGeneration).
	alternating bool
}

func (c *Connector) newGeneration(n uint64) (*generation, error) {
	cache, err := secretcache.New(func(sc *secretcache.Cache) {
		sc.Client = cacheClient{c.cfg.client}
		sc.CacheItemTTL = c.cfg.cacheTTL.Nanoseconds()
	})
	if err != nil {
		return nil, fmt.Errorf("connect: create secret cache: %w", err)
	}
	return &generation{n: n, id: c.id, cache: cache, c: c, creds: map[string]*credential{}}, nil
}

// current returns the credentials for AWSCURRENT, read through the cache
// (a later TTL expiry inside the generation may return newer ones).
func (g *generation) current(ctx context.Context) (*credential, error) {
	s, err := g.cache.GetSecretStringWithContext(ctx, g.id)
	if err != nil {
		return nil, fmt.Errorf("read AWSCURRENT: %w", err)
	}
	return g.credential(s, secret.StageCurrent)
}

// pending returns the credentials for AWSPENDING, or nil when there is no
// readable pending value. It asks Secrets Manager at most once per
// generation, since a placeholder version without a value would otherwise
// cost a call per connection.
func (g *generation) pending(ctx context.Context) *credential {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pendingLoaded {
		return g.pendingCred
	}
	s, err := g.cache.GetSecretStringWithStageWithContext(ctx, g.id, secret.StagePending)
	if ctx.Err() != nil {
		return nil // try again with a live context
	}
	g.pendingLoaded = true
	if err != nil {
		return nil
	}
	cr, err := g.credentialLocked(s, secret.StagePending)
	if err != nil {
		return nil // a malformed pending value is the rotation's problem
	}
	g.pendingCred = cr
	return cr
}

func (g *generation) credential(s, stage string) (*credential, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.credentialLocked(s, stage)
}

// credentialLocked parses s once per generation. When AWSCURRENT and
// AWSPENDING hold the same value they share one credential.
func (g *generation) credentialLocked(s, stage string) (*credential, error) {
	if cr, ok := g.creds[s]; ok {
		return cr, nil
	}
	sec, err := secret.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stage, err)
	}
	dc, err := g.c.dialer.Connector(sec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stage, err)
	}
	cr := &credential{stage: stage, conn: dc, alternating: sec.AlternatingUsers()}
	g.creds[s] = cr
	return cr, nil
}
