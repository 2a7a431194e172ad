package smlocal

import (
	"encoding/json"
	"time"
)

// fault is one injected misbehaviour for one call of an operation.
type fault struct {
	errorType string
	delay     time.Duration
	hang      bool
	token     PageTokenFault
}

// FailNext makes the next n calls of operation (e.g. "GetSecretValue")
// answer with errorType instead of running. "ThrottlingException" is sent
// as HTTP 400, as the service throttles, so the SDK retries it by error
// code; "InternalServiceError" is sent as HTTP 500; any modeled exception
// name (e.g. "DecryptionFailure") yields the SDK's typed error.
// Faults queue per operation and run in the order they were added.
func (s *Server) FailNext(operation string, n int, errorType string) {
	s.addFaults(operation, n, fault{errorType: errorType})
}

// DelayNext delays the next n calls of operation by d; then they run
// normally. Delays and failures share one queue per operation.
func (s *Server) DelayNext(operation string, n int, d time.Duration) {
	s.addFaults(operation, n, fault{delay: d})
}

// HangNext holds the next n calls of operation without ever answering:
// each request stays open until the client gives up (its deadline or HTTP
// timeout) or the server is closed. It models a service that accepted the
// connection and then stopped responding.
func (s *Server) HangNext(operation string, n int) {
	s.addFaults(operation, n, fault{hang: true})
}

// PageTokenFault is a way another Secrets Manager implementation has been
// seen to answer a paginated call (ListSecretVersionIds).
type PageTokenFault int

const (
	// EmptyNextToken: the last page carries "NextToken": "" instead of no
	// NextToken. A client that keeps asking while NextToken is not nil asks
	// again with "", which is the first page again.
	EmptyNextToken PageTokenFault = iota + 1
	// RepeatedNextToken: every page carries the NextToken it was asked
	// with, and the first page (asked without one) the token of the first
	// page ("0" here), so a client that follows tokens asks for the same
	// page forever.
	RepeatedNextToken
)

// PageTokenNext makes the next n answers of a paginated operation carry
// the NextToken of f. The pages themselves are served normally.
func (s *Server) PageTokenNext(operation string, n int, f PageTokenFault) {
	s.addFaults(operation, n, fault{token: f})
}

func (s *Server) addFaults(op string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], f)
	}
}

// takeFault pops the next fault for op. The caller holds s.mu.
func (s *Server) takeFault(op string) (fault, bool) {
	q := s.faults[op]
	if len(q) == 0 {
		return fault{}, false
	}
	s.faults[op] = q[1:]
	return q[0], true
}

// paged is an answer of a paginated operation.
type paged interface {
	nextToken() *string
	withNextToken(*string) any
}

func (o listSecretVersionIdsOutput) nextToken() *string          { return o.NextToken }
func (o listSecretVersionIdsOutput) withNextToken(t *string) any { o.NextToken = t; return o }

// rewriteToken applies a PageTokenFault to the answer out of a request
// with body; answers of other operations are returned unchanged.
func (f PageTokenFault) rewriteToken(body []byte, out any) any {
	p, ok := out.(paged)
	if !ok || f == 0 {
		return out
	}
	var in struct{ NextToken *string }
	_ = json.Unmarshal(body, &in) // the handler already decoded it
	switch f {
	case EmptyNextToken:
		if p.nextToken() == nil {
			return p.withNextToken(new(string))
		}
	case RepeatedNextToken:
		t := "0"
		if in.NextToken != nil && *in.NextToken != "" {
			t = *in.NextToken
		}
		return p.withNextToken(&t)
	}
	return out
}
