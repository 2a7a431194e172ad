package connect_test

import (
	"context"
	"testing"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/secret"
)

// BenchmarkConnect measures one new TLS connection through the connector
// (cached secret) against the same connection made directly by a
// mysql dialer's connector: the difference is the connector's overhead.
//
//	go test -run '^$' -bench Connect -benchtime 200x ./connect
func BenchmarkConnect(b *testing.B) {
	f := newFixture(b, db, true)
	c := f.connector()
	sec, err := secret.Parse(f.secretString(f.password, true))
	if err != nil {
		b.Fatal(err)
	}
	dialer, err := mysql.NewDialer(mysql.WithCABundlePEM(db.CAPEM()))
	if err != nil {
		b.Fatal(err)
	}
	direct, err := dialer.Connector(sec)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("connector", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			conn, err := c.Connect(ctx)
			if err != nil {
				b.Fatal(err)
			}
			conn.Close()
		}
	})
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			conn, err := direct.Connect(ctx)
			if err != nil {
				b.Fatal(err)
			}
			conn.Close()
		}
	})
}
