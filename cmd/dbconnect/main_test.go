package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/testkit/goldenfile"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var db *testdb.Server

func TestMain(m *testing.M) { testdb.Main(m, &db) }

func TestGolden(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sm, err := smlocal.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	client := sm.NewClient(ctx)
	if err := db.CreateUser(ctx, "dbconnect_app", "app-secret-pw"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DropUser(context.Background(), "dbconnect_app") })
	secret := func(name string, port int, password string) {
		b, _ := json.Marshal(map[string]any{"engine": "mariadb", "host": db.Host(), "port": port,
			"username": "dbconnect_app", "password": password, "ssl": true})
		if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))}); err != nil {
			t.Fatal(err)
		}
	}
	secret("app/db", db.Port(), "app-secret-pw")
	secret("app/wrong-password", db.Port(), "not-the-password")
	secret("app/closed-port", 1, "app-secret-pw")
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/not-json"), SecretString: aws.String("app-secret-pw")}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"version_only", []string{"-secret-id", "app/db"}, exitOK},
		{"query_table", []string{"-secret-id", "app/db", "-query", "SELECT 1 AS n, 'two' AS word, NULL AS nothing UNION ALL SELECT 22, 'three', 'x'"}, exitOK},
		{"missing_secret", []string{"-secret-id", "app/nope"}, exitSecret},
		{"not_a_database_secret", []string{"-secret-id", "app/not-json"}, exitSecret},
		{"wrong_password", []string{"-secret-id", "app/wrong-password"}, exitConnect},
		{"cannot_connect", []string{"-secret-id", "app/closed-port"}, exitConnect},
		{"query_failed", []string{"-secret-id", "app/db", "-query", "SELEC nonsense"}, exitQueryFailed},
		{"usage_no_secret", []string{"-query", "SELECT 1"}, exitUsage},
		{"usage_bad_flag", []string{"-secret", "x"}, exitUsage},
		{"usage_help", []string{"-h"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(ctx, tt.args, &out, &errOut,
				connect.WithClient(client), connect.WithCABundlePEM(db.CAPEM()),
				connect.WithRetry(2, 0), connect.WithMinRefreshInterval(0))
			if code != tt.code {
				t.Errorf("exit = %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			for _, pw := range []string{"app-secret-pw", "not-the-password"} {
				if bytes.Contains(out.Bytes(), []byte(pw)) || bytes.Contains(errOut.Bytes(), []byte(pw)) {
					t.Fatalf("output contains a password")
				}
			}
			golden(t, tt.name, fmt.Sprintf("exit: %d\n--- stdout\n%s--- stderr\n%s", code, out.String(), errOut.String()))
		})
	}
}

var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`Server version: .*`), "Server version: <VERSION>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d{2,}`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`RequestID: [0-9a-fA-F-]+`), "RequestID: <ID>"},
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	for _, n := range normalizers {
		got = n.re.ReplaceAllString(got, n.with)
	}
	goldenfile.Check(t, filepath.Join("testdata", name+".golden"), []byte(got), *update)
}
