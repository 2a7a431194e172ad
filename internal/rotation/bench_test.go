package rotation_test

import (
	"testing"
)

// BenchmarkFullRotation measures one complete rotation: RotateSecret on
// the local endpoint invoking the four steps in-process, each step talking
// to the endpoint over HTTP (real SDK client) and to MariaDB over verified
// TLS (require_secure_transport=ON), including the password change.
//
//	go test -run '^$' -bench FullRotation -benchtime 20x ./internal/rotation
func BenchmarkFullRotation(b *testing.B) {
	r := newRig(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.rotate(); err != nil {
			b.Fatal(err)
		}
	}
}
