package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/secret-rotation/internal/testkit/logslocal"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// breaker is the rotation function as Secrets Manager invokes it, with
// one step of one secret's next rotation crashing before the function
// runs it (as if the Lambda timed out there). The crash is logged in the
// function's log group the way the function logs a failed step.
type breaker struct {
	next smlocal.Invoker
	logs *logslocal.Server
	mu   sync.Mutex
	fail map[string]string // secret ARN -> step to crash at, once
}

func (b *breaker) crashOnce(arn, step string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail[arn] = step
}

func (b *breaker) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	b.mu.Lock()
	crash := b.fail[ev.SecretID] == ev.Step
	if crash {
		delete(b.fail, ev.SecretID)
	}
	b.mu.Unlock()
	if !crash {
		return b.next.Invoke(ctx, ev)
	}
	line, _ := json.Marshal(map[string]string{"level": "ERROR", "msg": "rotation step failed", "secret_arn": ev.SecretID,
		"step": ev.Step, "token": ev.ClientRequestToken, "outcome": "failed", "error": "simulated crash: the function timed out before " + ev.Step})
	b.logs.Add(logGroup, string(line))
	return fmt.Errorf("simulated crash at %s", ev.Step)
}
