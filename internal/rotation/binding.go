package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/secret"
)

// MasterBindingTag is the tag of a master secret that binds it to its
// application users: its value is the ARN prefix of the secrets that may
// name it in "masterarn"
// ("arn:<partition>:secretsmanager:<region>:<account>:secret:<name prefix>",
// see [ParseSecretARNPrefixes]). The stacks set it on the master secret
// of each database with users they create (prefix
// "<stackPrefix>/<env>/<database>/"). Whoever may write a user secret may
// not change it: only whoever may tag the master (its owner) can.
const MasterBindingTag = "secret-rotation:users"

// ErrMasterNotBound is matched (errors.Is) by the refusal of an
// alternating-users secret whose master secret does not name it: neither
// the master's [MasterBindingTag] nor the function's
// MASTER_SECRET_BINDINGS covers the secret's ARN. The error also matches
// [ErrGuard].
var ErrMasterNotBound = errors.New("master secret does not serve this secret")

// WithMasterSecretBindings binds master secrets the function cannot learn
// from a tag (an existing database's master, which the stacks do not own
// and so cannot tag): master secret ARN (complete, as DescribeSecret
// returns it) to the ARN prefix of the secrets that may name it. A master
// listed here is bound by this entry only; its tag is not read.
func WithMasterSecretBindings(bindings map[string]string) Option {
	return func(h *Handler) { h.masterBindings = bindings }
}

// WithMasterSecretBindingRequired sets whether a master secret must bind
// the secret that names it (default true). false trusts every master the
// function's role can read for every secret it is invoked for, as before
// bindings existed: whoever can write any such secret can then make the
// function act as any of those masters.
func WithMasterSecretBindingRequired(required bool) Option {
	return func(h *Handler) { h.bindingOptional = !required }
}

// ParseMasterSecretBindings reads MASTER_SECRET_BINDINGS: a JSON object
// from complete master secret ARN to the ARN prefix of the secrets that
// may name it, e.g.
// {"arn:aws:secretsmanager:eu-west-1:111122223333:secret:legacy-master-AbCdEf":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/prod/legacy/"}.
func ParseMasterSecretBindings(v string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, errors.New(`want a JSON object {"<master secret ARN>":"<user secret ARN prefix>",...}`)
	}
	if len(m) == 0 {
		return nil, errors.New("binds no master secret")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := CheckMasterSecretARN(k); err != nil {
			return nil, fmt.Errorf("master %q: %w", k, err)
		}
		if err := checkSecretARNPrefix(m[k]); err != nil {
			return nil, fmt.Errorf("users of master %q: %q: %w", k, m[k], err)
		}
	}
	return m, nil
}

// CheckMasterSecretARN checks a key of MASTER_SECRET_BINDINGS: a
// complete secret ARN, without wildcard.
func CheckMasterSecretARN(arn string) error {
	if strings.ContainsAny(arn, "*?, \t\"") {
		return errors.New("want a complete secret ARN (no wildcard, comma or space)")
	}
	if parts, ok := secretARNParts(arn); !ok || parts[6] == "" {
		return errors.New("want arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>")
	}
	return nil
}

// bindMaster checks, before the master secret's value is read or any
// login, that the master secret user names binds the secret being
// rotated (r.arn, as Secrets Manager describes it, not as the secret's
// writer states it): the master's entry in MASTER_SECRET_BINDINGS, or
// else its [MasterBindingTag], is an ARN prefix of r.arn. It returns the
// ARN to read the master by: the one DescribeSecret returned (the
// secret that was checked), or user.MasterARN when binding is off.
//
// The checks of withMaster (same host and port as the user secret) bind
// the secret to the master's server only, and the secret's writer chooses
// both "host" and "masterarn": without this, whoever can write the secret
// of database A's user could point it at database B's master (which the
// function's role may read for B's users) and get an account on B.
func (h *Handler) bindMaster(ctx context.Context, r *request, user *secret.Secret) (string, error) {
	if h.bindingOptional {
		return user.MasterARN, nil
	}
	arn := user.MasterARN
	prefix, source := "", ""
	if p, ok := h.masterBindings[arn]; ok {
		prefix, source = p, EnvMasterSecretBindings
	} else {
		md, err := h.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("describe master secret %s, to check that it serves secret %s: %w; its value was not read", arn, r.arn, err)
		}
		if a := aws.ToString(md.ARN); a != "" {
			arn = a
		}
		if p, ok := h.masterBindings[arn]; ok {
			prefix, source = p, EnvMasterSecretBindings
		} else {
			for _, t := range md.Tags {
				if aws.ToString(t.Key) == MasterBindingTag {
					prefix, source = aws.ToString(t.Value), "tag "+MasterBindingTag
				}
			}
		}
	}
	if source == "" {
		return "", fmt.Errorf("%w: %w: secret %s names master secret %s, which has no tag %s and is not in %s, so nothing the master's owner set says it serves this secret; refusing before reading the master's value or any login (tag the master with the ARN prefix of the secrets it serves: aws secretsmanager tag-resource --secret-id %s --tags Key=%s,Value=<ARN prefix of its user secrets>; or list it in %s)",
			ErrGuard, ErrMasterNotBound, r.arn, arn, MasterBindingTag, EnvMasterSecretBindings, arn, MasterBindingTag, EnvMasterSecretBindings)
	}
	if err := checkSecretARNPrefix(prefix); err != nil {
		return "", fmt.Errorf("%w: %w: master secret %s: %s %q is not a secret ARN prefix (%v); refusing secret %s before reading the master's value or any login",
			ErrGuard, ErrMasterNotBound, arn, source, prefix, err, r.arn)
	}
	if !strings.HasPrefix(r.arn, prefix) {
		return "", fmt.Errorf("%w: %w: secret %s names master secret %s, whose %s binds it to the secrets whose ARN starts with %s only; refusing before reading the master's value or any login",
			ErrGuard, ErrMasterNotBound, r.arn, arn, source, prefix)
	}
	r.log.Info("master secret serves this secret", "master_arn", arn, "bound_by", source, "users_prefix", prefix)
	return arn, nil
}
