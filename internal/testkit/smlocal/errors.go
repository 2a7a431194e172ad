package smlocal

import (
	"fmt"
	"net/http"
)

// Error type names as the service sends them in "__type". The SDK maps the
// modeled ones to its typed errors (types.ResourceNotFoundException etc.).
const (
	errResourceNotFound   = "ResourceNotFoundException"
	errInvalidRequest     = "InvalidRequestException"
	errInvalidParameter   = "InvalidParameterException"
	errResourceExists     = "ResourceExistsException"
	errLimitExceeded      = "LimitExceededException"
	errInternal           = "InternalServiceError"
	errThrottling         = "ThrottlingException"
	errAccessDenied       = "AccessDeniedException"
	errUnknownOperation   = "UnknownOperationException"
	errMissingAuthToken   = "MissingAuthenticationTokenException"
	errSerialization      = "SerializationException"
	errInvalidNextToken   = "InvalidNextTokenException"
	errServiceUnavailable = "ServiceUnavailable"
)

// apiError is an error answered to the client in the service's JSON shape.
type apiError struct {
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func newErr(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// statusFor returns the HTTP status the service uses for an error type: 500
// for its internal error, 503 for unavailability, 403 for authentication and
// 400 for everything else, including throttling (AWS JSON services throttle
// with 400 + ThrottlingException, which the SDK retries by error code).
func statusFor(errorType string) int {
	switch errorType {
	case errInternal, "InternalFailure", "InternalServerError":
		return http.StatusInternalServerError
	case errServiceUnavailable, "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	case errMissingAuthToken, errAccessDenied:
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}

// notFoundSecret is the service's message for an unknown SecretId.
func notFoundSecret() *apiError {
	return newErr(errResourceNotFound, "Secrets Manager can't find the specified secret.")
}
