package smlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
)

// Server is a Secrets Manager endpoint on loopback. It is safe for
// concurrent use; all state lives in memory and disappears with Close.
type Server struct {
	cfg      config
	listener net.Listener
	http     *http.Server
	baseURL  string

	ctx    context.Context // cancelled by Close; parent of rotation invocations
	cancel context.CancelFunc

	mu        sync.Mutex
	secrets   map[string]*secret // by name
	functions map[string]Invoker // by Lambda ARN
	calls     map[string]int
	faults    map[string][]fault
	rotErrs   []error
	rotations map[string]*rotation // running rotations by secret ARN
	rotWG     sync.WaitGroup
	now       func() time.Time
}

// config collects the options of Start.
type config struct {
	region      string
	accountID   string
	addr        string
	functions   map[string]Invoker
	synchronous bool
}

// Option configures Start.
type Option func(*config)

// WithRegion sets the region used in ARNs and by NewClient (default us-east-1).
func WithRegion(r string) Option { return func(c *config) { c.region = r } }

// WithAccountID sets the account id used in ARNs (default 123456789012).
func WithAccountID(id string) Option { return func(c *config) { c.accountID = id } }

// WithAddr sets the listen address (default 127.0.0.1:0, a free loopback port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithFunction registers the rotation function that RotateSecret invokes
// when the secret's RotationLambdaARN equals arn.
func WithFunction(arn string, inv Invoker) Option {
	return func(c *config) { c.functions[arn] = inv }
}

// WithSynchronousRotation makes RotateSecret return only after the rotation
// steps ran, so tests can assert on the result without waiting. By default
// RotateSecret starts the rotation and returns, like the service.
func WithSynchronousRotation() Option { return func(c *config) { c.synchronous = true } }

// Start listens on a free loopback port (or WithAddr) and serves the
// Secrets Manager API until Close.
func Start(opts ...Option) (*Server, error) {
	cfg := config{
		region:    "us-east-1",
		accountID: "123456789012",
		addr:      "127.0.0.1:0",
		functions: map[string]Invoker{},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("smlocal: listen on %s: %w", cfg.addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		listener:  ln,
		baseURL:   "http://" + ln.Addr().String(),
		ctx:       ctx,
		cancel:    cancel,
		secrets:   map[string]*secret{},
		functions: map[string]Invoker{},
		calls:     map[string]int{},
		faults:    map[string][]fault{},
		rotations: map[string]*rotation{},
		now:       time.Now,
	}
	for arn, inv := range cfg.functions {
		s.functions[arn] = inv
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// URL returns the base endpoint, e.g. http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.baseURL }

// Region returns the region the server puts in ARNs.
func (s *Server) Region() string { return s.cfg.region }

// Close stops the listener, cancels the context passed to running rotation
// steps and waits for them; an Invoker that ignores its context delays Close.
func (s *Server) Close() error {
	s.cancel()
	err := s.http.Close()
	s.rotWG.Wait()
	if err != nil {
		return fmt.Errorf("smlocal: close: %w", err)
	}
	return nil
}

// RegisterFunction registers (or replaces) the rotation function for a
// Lambda ARN.
func (s *Server) RegisterFunction(arn string, inv Invoker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[arn] = inv
}

// Calls reports how many requests for an operation (e.g. "GetSecretValue")
// the server received, including the ones answered with an injected fault.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// NewClient returns a real aws-sdk-go-v2 Secrets Manager client for this
// endpoint: static dummy credentials, the server's region and BaseEndpoint
// set to URL(). It reads no environment or shared config, so tests are
// hermetic. optFns adjust the client (e.g. a faster retryer).
func (s *Server) NewClient(ctx context.Context, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	_ = ctx // kept for symmetry with config.LoadDefaultConfig-based constructors
	cfg := aws.Config{
		Region:      s.cfg.region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSMLOCAL", "smlocal-dummy-secret", ""),
	}
	opts := append([]func(*secretsmanager.Options){func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(s.baseURL)
	}}, optFns...)
	return secretsmanager.NewFromConfig(cfg, opts...)
}

// handler maps operation names to their implementation. Each takes the raw
// JSON body and returns the response value or an API error.
func (s *Server) handler(op string) (func([]byte) (any, *apiError), bool) {
	h, ok := map[string]func([]byte) (any, *apiError){
		"CreateSecret":             decoding(s.createSecret),
		"DescribeSecret":           decoding(s.describeSecret),
		"GetSecretValue":           decoding(s.getSecretValue),
		"PutSecretValue":           decoding(s.putSecretValue),
		"UpdateSecretVersionStage": decoding(s.updateSecretVersionStage),
		"ListSecretVersionIds":     decoding(s.listSecretVersionIds),
		"ListSecrets":              decoding(s.listSecrets),
		"GetRandomPassword":        decoding(s.getRandomPassword),
		"UpdateSecret":             decoding(s.updateSecret),
		"DeleteSecret":             decoding(s.deleteSecret),
		"RestoreSecret":            decoding(s.restoreSecret),
		"RotateSecret":             decoding(s.rotateSecret),
		"CancelRotateSecret":       decoding(s.cancelRotateSecret),
	}[op]
	return h, ok
}

// ServeHTTP implements the AWS JSON 1.1 protocol: POST / with
// X-Amz-Target: secretsmanager.<Operation>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || (r.URL.Path != "/" && r.URL.Path != "") {
		writeError(w, newErr(errUnknownOperation, "only POST / is served"))
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	if !ok || op == "" {
		writeError(w, newErr(errUnknownOperation, "missing or foreign X-Amz-Target %q", r.Header.Get("X-Amz-Target")))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	// Like the service, require a signature but (unlike it) do not verify it.
	if r.Header.Get("Authorization") == "" {
		writeError(w, newErr(errMissingAuthToken, "Missing Authentication Token"))
		return
	}
	s.mu.Lock()
	f, hasFault := s.takeFault(op)
	s.mu.Unlock()
	if hasFault {
		if f.hang {
			select {
			case <-r.Context().Done():
			case <-s.ctx.Done():
			}
			// Never an answer, not even an empty one: drop the connection.
			panic(http.ErrAbortHandler)
		}
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.errorType != "" {
			msg := "smlocal: injected " + f.errorType + " for " + op
			if f.errorType == errThrottling {
				msg = "Rate exceeded" // the service's throttling message
			}
			writeError(w, &apiError{Type: f.errorType, Message: msg})
			return
		}
	}
	h, ok := s.handler(op)
	if !ok {
		writeError(w, newErr(errUnknownOperation, "smlocal does not implement %s", op))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, newErr(errSerialization, "read body: %v", err))
		return
	}
	out, apiErr := h(body)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	out = f.token.rewriteToken(body, out)
	buf, err := json.Marshal(out)
	if err != nil {
		writeError(w, newErr(errInternal, "encode response: %v", err))
		return
	}
	writeHeaders(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

func writeHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", uuid.NewString())
}

// writeError answers in the service's error shape: the type in "__type" and
// in the X-Amzn-Errortype header, the text in "Message".
func writeError(w http.ResponseWriter, e *apiError) {
	writeHeaders(w)
	w.Header().Set("X-Amzn-Errortype", e.Type)
	w.WriteHeader(statusFor(e.Type))
	buf, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
	}{e.Type, e.Message})
	_, _ = w.Write(buf)
}

// decoding adapts an operation's implementation, which takes its decoded
// request, to the raw-body form of the handler table: every operation
// decodes its body the same way before anything else.
func decoding[In any](h func(In) (any, *apiError)) func([]byte) (any, *apiError) {
	return func(body []byte) (any, *apiError) {
		var in In
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return h(in)
	}
}

// decode unmarshals a request body; an empty body is an empty request.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return newErr(errSerialization, "malformed JSON request body")
		}
		return newErr(errSerialization, "invalid request body: %v", err)
	}
	return nil
}
