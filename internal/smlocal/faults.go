package smlocal

import "time"

// fault is one injected misbehaviour for one call of an operation.
type fault struct {
	errorType string
	delay     time.Duration
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
