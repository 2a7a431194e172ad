package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/example/secret-rotation/internal/secret"
)

// Rotation strategies `verify` can tell apart.
const (
	ModeSingleUser       = "single user"
	ModeAlternatingUsers = "alternating users"
	ModeUnknown          = "unknown"
)

// VerifyOptions are the flags of `verify`.
type VerifyOptions struct {
	// CheckPrevious also logs in with AWSPREVIOUS to prove that a
	// single-user rotation made its password useless. That login is meant
	// to be refused, i.e. it is a failed login, which an account-lockout
	// policy counts; so it is opt-in, and AWSCURRENT is tried again after
	// it to see whether it blocked the account.
	CheckPrevious bool
}

// VerifyReport is what `verify` prints.
type VerifyReport struct {
	Name     string `json:"name"`
	ARN      string `json:"arn"`
	Current  Login  `json:"current"`
	Previous *Login `json:"previous,omitempty"`
	// CurrentAgain is the second login with AWSCURRENT after a refused
	// AWSPREVIOUS (CheckPrevious).
	CurrentAgain *Login `json:"currentAgain,omitempty"`
	Mode         string `json:"mode"`
	Explanation  string `json:"explanation"`
	// Grants compares both users of an alternating-users secret with its
	// declared grants (nil for other secrets).
	Grants *GrantsReport `json:"grants,omitempty"`
	OK     bool          `json:"ok"`
}

// ErrLoginFailed is matched by Verify errors where AWSCURRENT does not log in.
var ErrLoginFailed = errors.New("AWSCURRENT does not log in")

// notTriedPrevious explains a Login with AWSPREVIOUS that was not made.
const notTriedPrevious = "--check-previous logs in with it, a failed login that an account-lockout policy counts"

// Verify logs in with AWSCURRENT and tells the rotation strategy from
// AWSPREVIOUS: the same user is single-user rotation, another user is
// alternating users (whose previous user is logged in with, as it should
// still work). For the same user it reads AWSPREVIOUS without logging in
// with it; with opts.CheckPrevious it logs in too, which after a
// single-user rotation is a failed login, and then logs in with
// AWSCURRENT again to see whether that blocked the account.
//
// It is an error wrapping [ErrLoginFailed] when AWSCURRENT does not log
// in, and also [ErrAccountBlocked] when the account is blocked.
func (o *Operator) Verify(ctx context.Context, secretID string, opts VerifyOptions) (*VerifyReport, error) {
	s, err := o.snapshot(ctx, secretID)
	if err != nil {
		return nil, err
	}
	r := &VerifyReport{Name: s.name(), ARN: s.arn(), Mode: ModeUnknown}
	cur, ok := s.byStage[secret.StageCurrent]
	if !ok {
		return r, fmt.Errorf("%w: no version of %s is labelled AWSCURRENT", ErrLoginFailed, r.Name)
	}
	var curSecret *secret.Secret
	r.Current, curSecret = o.readLogin(ctx, s, secret.StageCurrent, cur)
	r.OK = r.Current.Result == LoginAccepted
	if prev, ok := s.byStage[secret.StagePrevious]; ok && prev != cur {
		l, c := o.read(ctx, s, secret.StagePrevious, prev)
		otherUser := l.Username != "" && r.Current.Username != "" && l.Username != r.Current.Username
		var pendingWhy string
		if otherUser {
			pendingWhy = o.pendingChanges(ctx, s, l.Username)
		}
		switch {
		case l.Result != "":
		case pendingWhy != "":
			l.Result, l.Detail = LoginNotTried, pendingWhy
		case otherUser || (opts.CheckPrevious && r.OK):
			// Another user (alternating users) is expected to log in.
			o.login(ctx, &l, c)
		case opts.CheckPrevious:
			l.Result, l.Detail = LoginNotTried, "AWSCURRENT does not log in"
		default:
			l.Result, l.Detail = LoginNotTried, notTriedPrevious
		}
		r.Previous = &l
		if l.Result == LoginRefused {
			again := o.tryLogin(ctx, s, secret.StageCurrent, cur)
			r.CurrentAgain = &again
			r.OK = again.Result == LoginAccepted
		}
	}
	alternating := curSecret != nil && curSecret.AlternatingUsers()
	switch p := r.Previous; {
	case p == nil && alternating:
		r.Mode = ModeAlternatingUsers
		r.Explanation = "AWSCURRENT names a master secret (masterarn); no AWSPREVIOUS version yet (the secret was never rotated)"
	case p == nil:
		r.Explanation = "no AWSPREVIOUS version yet (the secret was never rotated)"
	case p.Username != "" && p.Username != r.Current.Username:
		r.Mode = ModeAlternatingUsers
		r.Explanation = fmt.Sprintf("AWSPREVIOUS is another user (%s); its login: %s", p.Username, p.Result)
	case p.Result == LoginNotTried && p.Username != "":
		r.Mode = ModeSingleUser
		r.Explanation = "AWSPREVIOUS is the same user: rotation changes this user's password in place (that its old password is refused was not tried: " + notTriedPrevious + ")"
	case p.Result == LoginRefused:
		r.Mode = ModeSingleUser
		r.Explanation = "AWSPREVIOUS is the same user and its old password is refused: rotation changes this user's password in place"
	case p.Result == LoginAccepted:
		r.Explanation = "AWSPREVIOUS is the same user and its password still works: the last rotation did not change the database password"
	default:
		r.Explanation = fmt.Sprintf("AWSPREVIOUS could not be checked (%s)", p.Result)
	}
	switch {
	case r.Current.Result == LoginBlocked:
		return r, fmt.Errorf("%w: %w; %s", ErrLoginFailed, ErrAccountBlocked, blockedAdvice)
	case r.CurrentAgain != nil && r.CurrentAgain.Result == LoginBlocked:
		return r, fmt.Errorf("%w any more: the failed login with AWSPREVIOUS (--check-previous) blocked it: %w; %s", ErrLoginFailed, ErrAccountBlocked, blockedAdvice)
	case r.CurrentAgain != nil && !r.OK:
		return r, fmt.Errorf("%w after the login with AWSPREVIOUS: %s", ErrLoginFailed, strings.TrimSpace(r.CurrentAgain.Result+" "+r.CurrentAgain.Detail))
	case !r.OK:
		return r, fmt.Errorf("%w: %s", ErrLoginFailed, strings.TrimSpace(r.Current.Result+" "+r.Current.Detail))
	}
	if alternating {
		prevStage := ""
		if r.Mode == ModeAlternatingUsers && r.Previous != nil {
			prevStage = secret.StagePrevious
		}
		r.Grants = o.compareGrants(ctx, curSecret, prevStage)
		if a := r.Grants.Accounts; len(a) > 0 && !a[0].Matches() {
			r.OK = false
			return r, fmt.Errorf("%w: %s (AWSCURRENT) %s; a rotation reconciles the user it switches to, so this one is corrected by the rotation after next", ErrGrantDrift, a[0].Account, describeDrift(a[0]))
		}
	}
	return r, nil
}

// readLogin reads a version, logs in with it and returns the parsed
// value too (nil when it does not parse).
func (o *Operator) readLogin(ctx context.Context, s *snapshot, stage, versionID string) (Login, *secret.Secret) {
	l, c := o.read(ctx, s, stage, versionID)
	if l.Result == "" {
		o.login(ctx, &l, c)
	}
	return l, c.secret
}
