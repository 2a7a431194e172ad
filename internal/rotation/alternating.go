package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/secret"
)

// alternatingUsers is AWS's alternating-users (multi-user) rotation with
// declared grants: the secret names a master secret ("masterarn"); each
// rotation switches between the account "x" and "x_clone", setting the
// password of the one not in use, logged in as the master user. The
// previous credentials keep working until the next rotation, so no
// client is ever refused. Unlike AWS's reference function
// (SecretsManagerRDSMySQLRotationMultiUser, which copies SHOW GRANTS of the
// current user), the new account gets exactly the secret's declared
// "grants", so drift is repaired at every rotation, and the first rotation
// creates both accounts. Without "grants" it copies the current account's
// schema- and table-level grants and refuses an account holding anything
// else (AWS's function copies every line of SHOW GRANTS).
type alternatingUsers struct{}

var _ Strategy = alternatingUsers{}

// validateAlternating checks a version of an alternating-users secret
// before anything is sent anywhere: both account names of the pair fit
// the server's 32-character limit and the grammar of package grant.
// secret.Parse already validated "userhost" and the grants' grammar, which
// refuses grants on the server's own schemas (grant.SystemSchemas).
func validateAlternating(s *secret.Secret) error {
	for _, u := range []string{s.Username, grant.Clone(s.Username)} {
		if err := grant.ValidateAccount(u); err != nil {
			if len(u) > grant.MaxUserLen {
				return fmt.Errorf("alternating users: the pair of %q is %q, longer than the server's %d-character limit for user names: use a user name of at most %d characters",
					s.Username, u, grant.MaxUserLen, grant.MaxUserLen-len(grant.CloneSuffix))
			}
			return fmt.Errorf("alternating users: %w", err)
		}
	}
	return nil
}

func account(s *secret.Secret) engine.Account {
	return engine.Account{User: s.Username, Host: s.UserHost}
}

// pendingValue is AWSCURRENT with the other account of the pair and a new
// password; every other key is kept as it is.
func (alternatingUsers) pendingValue(current *secret.Secret, password string) (string, error) {
	return current.WithCredentials(grant.Clone(current.Username), password)
}

// setSecret, logged in as the master user, makes the pending account
// exist with the pending password and exactly the declared grants. On the
// first rotation it also creates the current account (with the AWSCURRENT
// password) if it does not exist, so no manual SQL is needed. Everything
// is checked before any login: the pending version names the current
// account's pair on the same server, and the master secret is on that
// same host and port (the master password is sent nowhere else); and,
// before the master's value is read, that the master serves this secret
// ([Handler.bindMaster]: its owner's tag or the function's
// MASTER_SECRET_BINDINGS names the secret's ARN prefix). Then,
// before any change, [Handler.checkOwnership] proves that this secret
// owns every existing account it is about to change, and checkGrantTables
// that every table-level grant it is about to send names an existing
// table (engine.ErrUnknownObject otherwise, nothing changed). No login
// selects the secret's "dbname" (tryLogin, ownerLogin), so the first
// rotation works before the application has created its schema.
func (alternatingUsers) setSecret(ctx context.Context, h *Handler, r *request, pending *secret.Secret) (bool, error) {
	current, err := h.getSecret(ctx, r.secretID, "", secret.StageCurrent)
	if err != nil {
		return false, err
	}
	if err := checkPair(current, pending); err != nil {
		return false, fmt.Errorf("pending version %s: %w; refusing to change the database", r.token, err)
	}
	var changed bool
	err = h.withMaster(ctx, r, pending, func(adm engine.Admin) error {
		curExists, pendExists, err := h.checkOwnership(ctx, r, adm, current, pending)
		if err != nil {
			return err
		}
		pend := account(pending)
		want, err := wantedGrants(ctx, adm, current, curExists)
		if err != nil {
			return err
		}
		have, err := checkGrantTables(ctx, adm, pend, pendExists, want)
		if err != nil {
			return err
		}
		if err := h.createCurrent(ctx, r, adm, current, curExists); err != nil {
			return err
		}
		var created bool
		var granted, revoked []grant.Grant
		if pendExists {
			// Grants first: a privilege the master cannot revoke (SUPER
			// added by someone else) stops the rotation before the
			// password of the account changes.
			if granted, revoked, err = engine.ReconcileFrom(ctx, adm, pend, have, want); err != nil {
				return fmt.Errorf("grants of %s: %w", pend, err)
			}
			if created, err = adm.EnsureAccount(ctx, pend, pending.Password); err != nil {
				return err
			}
		} else {
			if created, err = adm.EnsureAccount(ctx, pend, pending.Password); err != nil {
				return err
			}
			if granted, revoked, err = engine.Reconcile(ctx, adm, pend, want); err != nil {
				return fmt.Errorf("grants of %s: %w", pend, err)
			}
		}
		changed = true
		r.log.Info("set password and grants of the pending user", "user", pending.Username, "created", created,
			"granted", engine.FormatGrants(granted), "revoked", engine.FormatGrants(revoked))
		return nil
	})
	return changed, err
}

// checkOwnership proves, before any change, that the secret owns each
// existing account of the pair, against a confused deputy (whoever can
// write the secret naming someone else's account and having the master
// take it over):
//
//   - If the current account does not exist, this rotation will create it,
//     so the pending one must not exist either: a secret naming
//     "victim_clone" would otherwise make the existing "victim" the
//     pending account. Refused without any login.
//   - If the current account exists, AWSCURRENT must log in to it (as
//     AWS's function checks).
//   - If the pending account exists, AWSPREVIOUS must name it and log in
//     to it (every rotation after the first: the pending account is the
//     previous one, its password still set), or else AWSPENDING must log
//     in to it (a retried setSecret that already set the password). A
//     healthy rotation makes no failed login: the first rotation has no
//     pending account, later ones log in with AWSPREVIOUS. A retried
//     setSecret after the password was set costs one refused AWSPREVIOUS
//     login, followed by the accepted AWSPENDING one.
//
// Every login here is to the user secret's own server (checkPair).
func (h *Handler) checkOwnership(ctx context.Context, r *request, adm engine.Admin, current, pending *secret.Secret) (curExists, pendExists bool, err error) {
	cur, pend := account(current), account(pending)
	if curExists, err = adm.AccountExists(ctx, cur); err != nil {
		return false, false, err
	}
	if pendExists, err = adm.AccountExists(ctx, pend); err != nil {
		return false, false, err
	}
	if !curExists {
		if pendExists {
			return false, false, fmt.Errorf("account %s does not exist but its alternate %s does: this rotation would create %s and then take over %s, which this secret is not proven to own; refusing before any change (to rotate an existing pair, store the secret with AWSCURRENT naming an account of the pair that exists and AWSPREVIOUS naming the other, each with its password)", cur, pend, cur, pend)
		}
		return false, false, nil
	}
	if err := h.ownerLogin(ctx, current); err != nil {
		return false, false, fmt.Errorf("AWSCURRENT does not log in to the existing account %s, so this secret does not own it; refusing to change its alternate: %w", cur, err)
	}
	if !pendExists {
		return true, false, nil
	}
	var tried []string
	prev, err := h.getSecret(ctx, r.secretID, "", secret.StagePrevious)
	switch {
	case err != nil && !isNotFound(err):
		// An unreadable or unparsable AWSPREVIOUS proves nothing.
		tried = append(tried, "AWSPREVIOUS unusable")
	case err != nil:
		tried = append(tried, "no AWSPREVIOUS")
	case prev.Username != pending.Username || prev.UserHost != pending.UserHost:
		tried = append(tried, "AWSPREVIOUS names another account")
	case !strings.EqualFold(prev.Host, pending.Host) || prev.Port != pending.Port:
		tried = append(tried, "AWSPREVIOUS names another server (not tried)")
	case prev.Password == pending.Password:
	default:
		err := h.ownerLogin(ctx, prev)
		if err == nil {
			r.log.Info("the pending user exists and AWSPREVIOUS logs in to it", "user", pending.Username)
			return true, true, nil
		}
		if !errors.Is(err, engine.ErrAuth) {
			return true, true, fmt.Errorf("AWSPREVIOUS, to prove this secret owns the existing account %s: %w", pend, err)
		}
		tried = append(tried, "AWSPREVIOUS refused")
	}
	err = h.ownerLogin(ctx, pending)
	if err == nil {
		r.log.Info("the pending user exists and AWSPENDING logs in to it (setSecret retried)", "user", pending.Username)
		return true, true, nil
	}
	if !errors.Is(err, engine.ErrAuth) {
		return true, true, fmt.Errorf("AWSPENDING, to prove this secret owns the existing account %s: %w", pend, err)
	}
	tried = append(tried, "AWSPENDING refused")
	return true, true, fmt.Errorf("account %s exists and no version of this secret logs in to it (%s), so this secret does not own it; refusing to change it (if it is this application's alternate account and its password was lost or changed by hand, store its password in a version labelled AWSPREVIOUS, or drop the account if nothing uses it: the next rotation creates it)", pend, strings.Join(tried, ", "))
}

// checkPair: the pending version must be the current one's alternate
// account, on the same server and host pattern, under the same master.
func checkPair(current, pending *secret.Secret) error {
	if err := validateAlternating(current); err != nil {
		return fmt.Errorf("AWSCURRENT: %w", err)
	}
	switch {
	case !current.AlternatingUsers():
		return errors.New("AWSCURRENT has no \"masterarn\"")
	case pending.Username != grant.Clone(current.Username):
		return fmt.Errorf("user %q is not the alternate of AWSCURRENT's %q", pending.Username, current.Username)
	case !strings.EqualFold(pending.Host, current.Host) || pending.Port != current.Port:
		return errors.New("it names a different host or port than AWSCURRENT")
	case pending.UserHost != current.UserHost:
		return errors.New("it names a different \"userhost\" than AWSCURRENT")
	case pending.MasterARN != current.MasterARN:
		return errors.New("it names a different master secret than AWSCURRENT")
	}
	return nil
}

// ownerLogin logs in with an application account's version, without a
// default schema (the schema need not exist yet, nor be granted: owning
// the account is about its password), and runs a trivial query. Its error
// does not match errLogin: it runs inside withMaster, which would take
// such an error for the master's own login and try the master's next
// version.
func (h *Handler) ownerLogin(ctx context.Context, s *secret.Secret) error {
	sess, err := h.db.Login(ctx, engine.WithoutSchema(s))
	if err != nil {
		return err
	}
	defer sess.Close()
	return sess.Check(ctx)
}

// wantedGrants returns the grants the pending account must hold: the
// declared ones, or without declared grants those of the existing current
// account (copyableGrants). It changes nothing.
func wantedGrants(ctx context.Context, adm engine.Admin, current *secret.Secret, curExists bool) ([]grant.Grant, error) {
	switch {
	case current.Grants != nil:
		return current.Grants, nil
	case !curExists:
		return nil, fmt.Errorf("account %s does not exist and the secret declares no \"grants\" to create it with", account(current))
	}
	return copyableGrants(ctx, adm, account(current))
}

// checkGrantTables checks, before any change, that every table-level
// grant this rotation will send names a table that exists (a schema-level
// grant needs nothing: GRANT ON s.* works before CREATE DATABASE s). It
// will send every wanted grant when the pending account does not exist
// (and to the current account on the first rotation: the same grants),
// and the missing ones when it does; a table dropped after it was granted
// keeps its grant and is not in the way. The error matches
// engine.ErrUnknownObject and names the table. It returns the existing
// pending account's grants (nil when it does not exist), which setSecret
// reconciles from (engine.ReconcileFrom) rather than reading them again.
func checkGrantTables(ctx context.Context, adm engine.Admin, pend engine.Account, pendExists bool, want []grant.Grant) (have []grant.Grant, err error) {
	send := want
	if pendExists {
		if have, err = engine.AllGrants(ctx, adm, pend); err != nil {
			return nil, err
		}
		send, _ = engine.DiffGrants(have, want)
	}
	if err := engine.CheckTables(ctx, adm, send); err != nil {
		return nil, fmt.Errorf("grants of %s: %w; nothing was changed", pend, err)
	}
	return have, nil
}

// createCurrent, on the first rotation (exists false), creates the
// current account with the AWSCURRENT password and the declared grants.
// checkOwnership has proven that an existing current account is this
// secret's; it is left as it is.
func (h *Handler) createCurrent(ctx context.Context, r *request, adm engine.Admin, current *secret.Secret, exists bool) error {
	if exists {
		return nil
	}
	cur := account(current)
	if _, err := adm.EnsureAccount(ctx, cur, current.Password); err != nil {
		return err
	}
	granted, _, err := engine.Reconcile(ctx, adm, cur, current.Grants)
	if err != nil {
		return fmt.Errorf("grants of %s: %w", cur, err)
	}
	r.log.Info("created the current user (first rotation)", "user", cur.User, "granted", engine.FormatGrants(granted))
	return nil
}

// copyableGrants reads the privileges of the current account of an
// AWS-style secret (no declared grants) for the pending account. Only
// schema- and table-level grants in the grammar are copied; anything else
// (global, column or routine privileges, GRANT OPTION, grants on the
// server's own schemas, MariaDB's DELETE HISTORY) is refused, naming the
// grant, before any change: AWS's function copies SHOW GRANTS verbatim,
// this one asks for declared grants instead.
func copyableGrants(ctx context.Context, adm engine.Admin, cur engine.Account) ([]grant.Grant, error) {
	have, err := engine.AllGrants(ctx, adm, cur)
	if err != nil {
		return nil, err
	}
	const fix = "declare the account's \"grants\" in the secret instead (the rotation then revokes everything else)"
	for _, g := range have {
		if !g.Declared() {
			return nil, fmt.Errorf("account %s holds %s, a global, column or routine privilege, which this function does not copy; %s", cur, g, fix)
		}
		if slices.Contains(g.Privileges, "DELETE HISTORY") {
			return nil, fmt.Errorf("account %s holds %s: MariaDB lists DELETE HISTORY among ALL PRIVILEGES on a schema or table, and this function does not copy it (the RDS for MariaDB master user cannot grant it); %s, or revoke DELETE HISTORY from it", cur, g, fix)
		}
		if err := engine.ValidateGrant(g); err != nil {
			return nil, fmt.Errorf("account %s holds %s, which this function does not copy (%v); %s", cur, g, err, fix)
		}
	}
	return have, nil
}

// withMaster logs in with the master secret and runs fn on the session's
// Admin. It reads the master's AWSCURRENT and logs in with it; only if the
// database refuses it (the master itself is mid-rotation: its setSecret
// has run, its finishSecret not yet) does it try the master's AWSPENDING
// and then AWSPREVIOUS, as singleUser does, so a healthy rotation makes no
// failed login.
//
// The master's rotation may finish between the reads: AWSCURRENT is
// refused, then the master's finishSecret (or an operator's rotatectl
// repair) moves AWSCURRENT to its pending version, so AWSPENDING is gone
// (or its version is now AWSCURRENT) and AWSPREVIOUS is the password just
// refused. Then withMaster re-reads the master's AWSCURRENT, once, and
// logs in with it if it is another version than the one refused. A
// password is never tried twice, so this costs no further failed login.
// Every master version, the re-read one too, must name the user secret's
// host and port, and not the application's own accounts, before it is
// used. Before any of that, [Handler.bindMaster] checks that the master
// secret serves this secret (its tag or MASTER_SECRET_BINDINGS), so the
// master's value is never read for a secret it does not serve.
func (h *Handler) withMaster(ctx context.Context, r *request, user *secret.Secret, fn func(engine.Admin) error) error {
	arn, err := h.bindMaster(ctx, r, user)
	if err != nil {
		return err
	}
	run := func(s engine.Session) error {
		adm, ok := s.(engine.Admin)
		if !ok {
			return fmt.Errorf("%w: the database engine cannot manage accounts (alternating users)", ErrUnsupportedStrategy)
		}
		return fn(adm)
	}
	tried := &loginError{addr: user.Addr(), user: "the master user of " + arn}
	var used []string // passwords already tried
	// login tries one master version (label names its stage in the log and
	// the error), unless its password was tried already or it fails
	// checkMaster. It reports done when withMaster must return err:
	// logged in (err is fn's), or refused for another reason than the
	// password (blocked, TLS, unreachable), which the next version would
	// meet too.
	login := func(label string, m *secret.Secret) (done bool, err error) {
		if refuse := checkMaster(arn, label, m, user); refuse != nil {
			tried.add("master "+label, refuse)
			return false, nil
		}
		if slices.Contains(used, m.Password) {
			return false, nil
		}
		used = append(used, m.Password)
		err = h.tryLogin(ctx, m, run)
		if err == nil {
			r.log.Info("logged in as the master user", "master_arn", arn, "logged_in_as", label)
			return true, nil
		}
		if !errors.Is(err, errLogin) {
			return true, err // logged in, but the work failed
		}
		tried.add("master "+label, err)
		if !errors.Is(err, engine.ErrAuth) {
			return true, tried
		}
		return false, nil
	}

	cur, curInfo, err := h.getVersion(ctx, arn, "", secret.StageCurrent)
	if err != nil {
		return fmt.Errorf("read master secret %s: %w", arn, err)
	}
	if err := checkMaster(arn, secret.StageCurrent, cur, user); err != nil {
		return err // nothing tried yet: the plain refusal
	}
	if done, err := login(secret.StageCurrent, cur); done {
		return err
	}

	// AWSCURRENT was refused: the master is mid-rotation, or was.
	pending, pendInfo, err := h.getVersion(ctx, arn, "", secret.StagePending)
	finished := err == nil && slices.Contains(pendInfo.stages, secret.StageCurrent)
	switch {
	case err == nil && !finished:
		if done, err := login(secret.StagePending, pending); done {
			return err
		}
	case err != nil && !isNotFound(err):
		tried.add("master "+secret.StagePending, err)
	default:
		// AWSPENDING is gone or is now AWSCURRENT: the master's rotation
		// finished after AWSCURRENT was read. Re-read it, once.
		if err != nil {
			tried.add("master "+secret.StagePending, errors.New("no such version"))
		}
		const reread = secret.StageCurrent + " (re-read)"
		m, info, err := h.getVersion(ctx, arn, "", secret.StageCurrent)
		switch {
		case err != nil:
			tried.add("master "+reread, err)
		case info.id == curInfo.id:
			tried.add("master "+reread, fmt.Errorf("still version %s, the one refused", info.id))
		default:
			if done, err := login(reread, m); done {
				return err
			}
		}
	}

	prev, _, err := h.getVersion(ctx, arn, "", secret.StagePrevious)
	switch {
	case err != nil && isNotFound(err):
		tried.add("master "+secret.StagePrevious, errors.New("no such version"))
	case err != nil:
		tried.add("master "+secret.StagePrevious, err)
	default:
		if done, err := login(secret.StagePrevious, prev); done {
			return err
		}
	}
	return tried
}

// checkMaster refuses a master version that names another server than the
// user secret (its password would be sent there) or one of the
// application's own accounts.
func checkMaster(arn, label string, m, user *secret.Secret) error {
	if !strings.EqualFold(m.Host, user.Host) || m.Port != user.Port {
		return fmt.Errorf("master secret %s (%s) names %s, not the user secret's %s; refusing to send its credentials there", arn, label, m.Addr(), user.Addr())
	}
	if m.Username == user.Username || m.Username == grant.Clone(user.Username) {
		return fmt.Errorf("master secret %s (%s) names the application user %q itself", arn, label, m.Username)
	}
	return nil
}

// testSecret logs in as the pending account (without a default schema,
// like every login of the function) and checks that it holds exactly the
// declared grants, as the server shows them to the account itself, and
// can use them: per data privilege a statement that changes nothing
// (engine.GrantProber). A grant whose schema or table does not exist yet
// (the first rotation on a fresh database, before the application creates
// its schema) cannot be probed: it is skipped and logged, never a
// failure; the account's own view of its grants still has to match.
// Without declared grants it only runs a query, as AWS's function does.
func (alternatingUsers) testSecret(ctx context.Context, h *Handler, r *request, pending *secret.Secret) (bool, error) {
	var skipped []string
	err := h.tryLogin(ctx, pending, func(s engine.Session) error {
		if err := s.Check(ctx); err != nil {
			return err
		}
		if pending.Grants == nil {
			return nil
		}
		reader, ok1 := s.(engine.GrantReader)
		prober, ok2 := s.(engine.GrantProber)
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: the database engine cannot check grants (alternating users)", ErrUnsupportedStrategy)
		}
		have, err := reader.Grants(ctx, account(pending))
		if err != nil {
			return err
		}
		if missing, extra := engine.DiffGrants(have, pending.Grants); len(missing)+len(extra) > 0 {
			return fmt.Errorf("%s lacks %s and holds extra %s", account(pending), engine.FormatGrants(missing), engine.FormatGrants(extra))
		}
		for _, g := range pending.Grants {
			why, err := prober.ProbeGrant(ctx, g)
			if err != nil {
				return err
			}
			if why != "" {
				skipped = append(skipped, g.String()+" ("+why+")")
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("test AWSPENDING credentials: %w", err)
	}
	if len(skipped) > 0 {
		// Not a failure: the account holds exactly the declared grants as
		// it sees them; the application has not created these objects yet.
		r.log.Info("grants not probed: their objects do not exist yet (the account's own view of its grants matches the declared ones)",
			"user", pending.Username, "skipped", strings.Join(skipped, "; "))
	}
	r.log.Info("pending user logs in and can use its grants", "user", pending.Username, "grants", len(pending.Grants),
		"probed", len(pending.Grants)-len(skipped))
	return false, nil
}
