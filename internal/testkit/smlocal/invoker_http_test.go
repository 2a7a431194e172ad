package smlocal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// fakeLambda answers like the Runtime Interface Emulator's invoke endpoint.
func fakeLambda(t *testing.T, answer func(w http.ResponseWriter, ev events.SecretsManagerSecretRotationEvent)) (*httptest.Server, func() []events.SecretsManagerSecretRotationEvent) {
	t.Helper()
	var mu sync.Mutex
	var got []events.SecretsManagerSecretRotationEvent
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev events.SecretsManagerSecretRotationEvent
		if r.Method != http.MethodPost || r.URL.Path != "/2015-03-31/functions/function/invocations" || json.Unmarshal(body, &ev) != nil {
			http.Error(w, "bad request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		answer(w, ev)
	}))
	t.Cleanup(ts.Close)
	return ts, func() []events.SecretsManagerSecretRotationEvent {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func TestHTTPInvokerResults(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		wantErr string // substring; "" means success
	}{
		{"null result", func(w http.ResponseWriter) { _, _ = w.Write([]byte("null")) }, ""},
		{"empty body", func(w http.ResponseWriter) {}, ""},
		{"handler error in body (RIE style)", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"errorMessage":"cannot connect to database","errorType":"errorString"}`))
		}, "cannot connect to database"},
		{"X-Amz-Function-Error header", func(w http.ResponseWriter) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = w.Write([]byte(`"boom"`))
		}, "Unhandled"},
		{"HTTP 500", func(w http.ResponseWriter) { http.Error(w, "emulator crashed", http.StatusInternalServerError) }, "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, got := fakeLambda(t, func(w http.ResponseWriter, _ events.SecretsManagerSecretRotationEvent) { tt.answer(w) })
			inv := smlocal.HTTPInvoker(ts.URL + "/2015-03-31/functions/function/invocations")
			ev := events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: "arn:x", ClientRequestToken: "tok", RotationToken: "rt"}
			err := inv.Invoke(context.Background(), ev)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if evs := got(); len(evs) != 1 || evs[0] != ev {
				t.Fatalf("function received %+v, want %+v", evs, ev)
			}
		})
	}
}

func TestHTTPInvokerUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	if err := smlocal.HTTPInvoker(url).Invoke(context.Background(), events.SecretsManagerSecretRotationEvent{Step: "setSecret"}); err == nil {
		t.Fatal("err = nil for a closed port")
	}
}

// RotateSecret drives a function behind an invoke URL; a function error at
// testSecret stops the rotation there.
func TestRotateSecretThroughHTTPInvoker(t *testing.T) {
	ts, got := fakeLambda(t, func(w http.ResponseWriter, ev events.SecretsManagerSecretRotationEvent) {
		if ev.Step == "testSecret" {
			_, _ = w.Write([]byte(`{"errorMessage":"login with pending password failed","errorType":"errorString"}`))
			return
		}
		_, _ = w.Write([]byte("null"))
	})
	srv, c := start(t, smlocal.WithSynchronousRotation())
	srv.RegisterFunction(fnARN, smlocal.HTTPInvoker(ts.URL+"/2015-03-31/functions/function/invocations"))
	arn, _ := mustCreate(t, c, "db", "pw")
	if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN)}); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, ev := range got() {
		steps = append(steps, ev.Step)
		if ev.SecretID != arn {
			t.Fatalf("SecretId = %s, want %s", ev.SecretID, arn)
		}
	}
	if !slices.Equal(steps, []string{"createSecret", "setSecret", "testSecret"}) {
		t.Fatalf("steps = %v", steps)
	}
	errs := srv.RotationErrors()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "login with pending password failed") {
		t.Fatalf("RotationErrors = %v", errs)
	}
}
