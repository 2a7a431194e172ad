package main_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// BenchmarkColdStart measures, per iteration, a fresh function process
// under the emulator handling its first event: the emulator receives the
// invoke, starts bootstrap, the function initializes (configuration, AWS
// SDK, TLS roots) and handles a step whose version is already AWSCURRENT
// (one DescribeSecret call to the local endpoint, no database). Starting
// the emulator itself is outside the timer. peak-RSS-KiB is the function
// process's VmHWM after that first event.
//
//	go test -run '^$' -bench ColdStart -benchtime 10x ./lambda/rotation
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	sm, err := smlocal.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer sm.Close()
	client := sm.NewClient(ctx)
	out, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("bench"), SecretString: aws.String(`{"engine":"mysql","host":"h","username":"u","password":"p"}`),
	})
	if err != nil {
		b.Fatal(err)
	}
	event := map[string]string{"Step": "finishSecret", "SecretId": aws.ToString(out.ARN), "ClientRequestToken": aws.ToString(out.VersionId)}
	env := map[string]string{"SECRETS_MANAGER_ENDPOINT": sm.URL()}
	var rssTotal float64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fn, err := lambdarun.Start(ctx, bootstrap, env)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := fn.Invoke(ctx, event); err != nil {
			b.Fatalf("invoke: %v\n%s", err, fn.Logs())
		}
		b.StopTimer()
		rssTotal += float64(peakRSSKiB(b, bootstrap))
		fn.Close()
		b.StartTimer()
	}
	b.ReportMetric(rssTotal/float64(b.N), "peak-RSS-KiB")
}

// BenchmarkWarmInvoke is BenchmarkColdStart's event sent to an already
// initialized function: the difference between the two is the cold start.
func BenchmarkWarmInvoke(b *testing.B) {
	ctx := context.Background()
	sm, err := smlocal.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer sm.Close()
	out, err := sm.NewClient(ctx).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("bench"), SecretString: aws.String(`{"engine":"mysql","host":"h","username":"u","password":"p"}`),
	})
	if err != nil {
		b.Fatal(err)
	}
	event := map[string]string{"Step": "finishSecret", "SecretId": aws.ToString(out.ARN), "ClientRequestToken": aws.ToString(out.VersionId)}
	fn, err := lambdarun.Start(ctx, bootstrap, map[string]string{"SECRETS_MANAGER_ENDPOINT": sm.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer fn.Close()
	if _, err := fn.Invoke(ctx, event); err != nil { // cold start, untimed
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}

// peakRSSKiB returns VmHWM of the running process whose executable is exe.
func peakRSSKiB(b *testing.B, exe string) int {
	b.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, p := range procs {
		if target, err := os.Readlink(p); err != nil || target != exe {
			continue
		}
		status, err := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	b.Fatalf("no running process for %s", exe)
	return 0
}

// BenchmarkBootstrapSize builds the deployment artifact exactly as the CDK
// app does (linux/arm64, static, stripped) and reports its size and the
// size of its deflate zip, the Lambda code package. The timed loop is the
// zip compression.
//
//	go test -run '^$' -bench BootstrapSize -benchtime 1x ./lambda/rotation
func BenchmarkBootstrapSize(b *testing.B) {
	out := filepath.Join(b.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, msg)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	var zipped bytes.Buffer
	for b.Loop() {
		zipped.Reset()
		zw := zip.NewWriter(&zipped)
		hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		hdr.SetMode(0o755)
		w, err := zw.CreateHeader(hdr)
		if err == nil {
			_, err = w.Write(bin)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(bin)), "bootstrap-bytes")
	b.ReportMetric(float64(zipped.Len()), "zip-bytes")
}
