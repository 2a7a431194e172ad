package lambdarun_test

import (
	"context"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
)

// BenchmarkColdStart measures process start to first handled event: Start
// (emulator listening), the first Invoke (the emulator starts the function,
// which handles the event) and Close. Binaries are prebuilt by TestMain.
//
//	go test -run '^$' -bench . -benchtime 20x ./internal/lambdarun
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	payload := map[string]string{"action": "echo"}
	for b.Loop() {
		f, err := lambdarun.Start(ctx, bootstrap, nil, lambdarun.WithEmulator(emulator))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmInvoke measures one invocation of a running function.
func BenchmarkWarmInvoke(b *testing.B) {
	f := startEcho(b, nil)
	ctx := context.Background()
	payload := map[string]string{"action": "echo"}
	if _, err := f.Invoke(ctx, payload); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}
