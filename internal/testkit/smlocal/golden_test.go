package smlocal_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/goldenfile"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestWireGolden records the raw HTTP exchange of a short session (status,
// error header, JSON body) with ARN suffixes, request-generated ids and
// timestamps normalised, so any change of the wire format shows up in
// review. Regenerate with: go test ./internal/testkit/smlocal/ -run WireGolden -update
func TestWireGolden(t *testing.T) {
	srv, _ := start(t)
	const tok1 = "11111111-1111-1111-1111-111111111111"
	const tok2 = "22222222-2222-2222-2222-222222222222"
	calls := []struct {
		op   string
		body string
	}{
		{"CreateSecret", `{"Name":"golden/db","SecretString":"{\"username\":\"app\"}","ClientRequestToken":"` + tok1 + `","Tags":[{"Key":"env","Value":"test"}]}`},
		{"PutSecretValue", `{"SecretId":"golden/db","SecretBinary":"AAEC/w==","ClientRequestToken":"` + tok2 + `","VersionStages":["AWSPENDING"]}`},
		{"GetSecretValue", `{"SecretId":"golden/db","VersionStage":"AWSPENDING"}`},
		{"DescribeSecret", `{"SecretId":"golden/db"}`},
		{"ListSecretVersionIds", `{"SecretId":"golden/db"}`},
		{"UpdateSecretVersionStage", `{"SecretId":"golden/db","VersionStage":"AWSCURRENT","MoveToVersionId":"` + tok2 + `"}`},
		{"GetSecretValue", `{"SecretId":"golden/missing"}`},
		{"GetRandomPassword", `{"PasswordLength":0}`},
		// Not served: nothing in the project deletes secrets (see doc.go).
		{"DeleteSecret", `{"SecretId":"golden/db","RecoveryWindowInDays":7}`},
		{"GetSecretValue", `{"SecretId":"golden/db"}`},
	}
	var got bytes.Buffer
	for _, c := range calls {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/", bytes.NewBufferString(c.body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager."+c.op)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			t.Fatalf("%s: body is not JSON: %s", c.op, body)
		}
		fmt.Fprintf(&got, "### %s %s\nHTTP %d  X-Amzn-Errortype: %q\n%s\n\n", c.op, c.body, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), normalise(pretty.String()))
	}
	goldenfile.Check(t, filepath.Join("testdata", "wire.golden"), got.Bytes(), *update)
}

var (
	arnSuffix = regexp.MustCompile(`(secret:[A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}"`)
	epochNum  = regexp.MustCompile(`: 1[0-9]{9}(\.[0-9]+)?`)
)

func normalise(s string) string {
	s = arnSuffix.ReplaceAllString(s, `$1-XXXXXX"`)
	return epochNum.ReplaceAllString(s, ": <epoch seconds>")
}
