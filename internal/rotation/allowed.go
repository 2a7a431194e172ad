package rotation

import (
	"errors"
	"fmt"
	"strings"

	"github.com/example/secret-rotation/internal/secret"
)

// ErrNotAllowed is matched (errors.Is) by the refusal of an
// alternating-users secret whose ARN is under none of the function's
// ALTERNATING_USERS_SECRET_PREFIXES. The error also matches [ErrGuard].
var ErrNotAllowed = errors.New("secret may not be rotated with alternating users by this function")

// WithAlternatingUsersSecretPrefixes limits alternating-users rotation to
// the secrets whose ARN starts with one of prefixes (see
// [ParseSecretARNPrefixes]). Default (nil or empty): no limit, any secret
// the function is invoked for may name a master.
func WithAlternatingUsersSecretPrefixes(prefixes []string) Option {
	return func(h *Handler) { h.altPrefixes = prefixes }
}

// strategyOf selects s's strategy for request r, first refusing an
// alternating-users secret outside the allowed prefixes. It runs on the
// version the step read (AWSCURRENT for createSecret, AWSPENDING for
// setSecret and testSecret), before the strategy: before the master
// secret is read, before any login or statement, before a password is
// generated.
func (h *Handler) strategyOf(r *request, s *secret.Secret) (Strategy, error) {
	if err := h.allowAlternating(r.arn, s); err != nil {
		return nil, err
	}
	return strategyFor(s)
}

// allowAlternating refuses s, a version of the secret arn, when it names a
// master ("masterarn") and arn is under none of the allowed prefixes. A
// secret without "masterarn" (single user) logs in only as itself and is
// never refused here.
func (h *Handler) allowAlternating(arn string, s *secret.Secret) error {
	if len(h.altPrefixes) == 0 || !s.AlternatingUsers() {
		return nil
	}
	for _, p := range h.altPrefixes {
		if strings.HasPrefix(arn, p) {
			return nil
		}
	}
	return fmt.Errorf("%w: %w: secret %s names master secret %s, but only secrets whose ARN starts with %s may use alternating users (%s); the master secret was not read",
		ErrGuard, ErrNotAllowed, arn, s.MasterARN, strings.Join(h.altPrefixes, " or "), EnvAlternatingUsersSecretPrefixes)
}

// ParseSecretARNPrefixes reads the value of
// ALTERNATING_USERS_SECRET_PREFIXES: Secrets Manager secret ARN prefixes
// separated by commas (spaces around them are ignored), each
// "arn:<partition>:secretsmanager:<region>:<account>:secret:<name prefix>"
// with a non-empty name prefix and no wildcard (the match is a plain
// prefix of the ARN, e.g. "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/prod/").
// A value that lists no prefix is an error: it would otherwise mean "no
// limit" when a limit was meant.
func ParseSecretARNPrefixes(v string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if err := checkSecretARNPrefix(f); err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("lists no ARN prefix")
	}
	return out, nil
}

func checkSecretARNPrefix(p string) error {
	if strings.ContainsAny(p, "*? \t") {
		return errors.New("want a plain ARN prefix (no wildcard or space)")
	}
	parts, ok := secretARNParts(p)
	if !ok {
		return errors.New("want arn:<partition>:secretsmanager:<region>:<account>:secret:<name prefix>")
	}
	if len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" {
		return errors.New("want a 12-digit account id")
	}
	if parts[6] == "" {
		return errors.New("want a secret name prefix after \":secret:\" (unset the variable to allow every secret)")
	}
	return nil
}

// secretARNParts splits a Secrets Manager secret ARN (or ARN prefix) into
// its seven ":"-separated fields and reports whether it has the shape
// "arn:<partition>:secretsmanager:<region>:<account>:secret:<rest>" with
// a non-empty partition and region. The account and the rest are left to
// the caller: checkSecretARNPrefix and CheckMasterSecretARN check them
// differently.
func secretARNParts(arn string) ([]string, bool) {
	parts := strings.SplitN(arn, ":", 7)
	ok := len(parts) == 7 && parts[0] == "arn" && parts[1] != "" && parts[2] == "secretsmanager" && parts[3] != "" && parts[5] == "secret"
	return parts, ok
}
