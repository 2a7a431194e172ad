package testdb_test

import (
	"context"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// BenchmarkStartStop measures a whole server life: datadir initialization,
// certificates, start until the socket answers, and Stop. It is what one
// test package pays for its TestMain server.
//
//	go test -run '^$' -bench StartStop -benchtime 5x ./internal/testdb
func BenchmarkStartStop(b *testing.B) {
	b.Run("template", func(b *testing.B) { benchmarkStartStop(b) })
	b.Run("fresh datadir", func(b *testing.B) { benchmarkStartStop(b, testdb.WithFreshDatadir()) })
}

func benchmarkStartStop(b *testing.B, opts ...testdb.Option) {
	for b.Loop() {
		s, err := testdb.Start(context.Background(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHaltResume measures an outage round trip on an existing server.
func BenchmarkHaltResume(b *testing.B) {
	for b.Loop() {
		if err := srv.Halt(); err != nil {
			b.Fatal(err)
		}
		if err := srv.Resume(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
