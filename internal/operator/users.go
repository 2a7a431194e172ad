package operator

import (
	"context"
	"fmt"

	"github.com/example/secret-rotation/internal/secret"
)

// UsersReport is what `status` shows of an alternating-users secret:
// which of its two users the database accepts, and how their grants
// compare with the declared ones.
type UsersReport struct {
	Logins []Login       `json:"logins"`
	Grants *GrantsReport `json:"grants,omitempty"`
}

// users logs in with AWSCURRENT and, when it names the other user,
// AWSPREVIOUS, and compares the grants, for an alternating-users secret
// (AWSCURRENT names a master secret); nil for any other secret, or when
// AWSCURRENT cannot be read (status reports Secrets Manager's view
// whatever the values hold). Both logins are expected to work, so
// neither is a needless failed login, except AWSPREVIOUS while a
// rotation of that user is pending: see [Operator.pendingChanges].
func (o *Operator) users(ctx context.Context, s *snapshot) *UsersReport {
	cur, ok := s.byStage[secret.StageCurrent]
	if !ok {
		return nil
	}
	l, c := o.read(ctx, s, secret.StageCurrent, cur)
	if l.Result != "" || c.secret == nil || !c.secret.AlternatingUsers() {
		return nil
	}
	o.login(ctx, &l, c)
	r := &UsersReport{Logins: []Login{l}}
	prevStage := ""
	if prev, ok := s.byStage[secret.StagePrevious]; ok && prev != cur {
		pl := o.previousLogin(ctx, s, prev, l.Username)
		if pl.Username != "" && pl.Username != l.Username {
			prevStage = secret.StagePrevious
		}
		r.Logins = append(r.Logins, pl)
	}
	r.Grants = o.compareGrants(ctx, c.secret, prevStage)
	return r
}

// previousLogin logs in with AWSPREVIOUS when it names another user than
// current (alternating users: it should still work), unless a rotation
// of that user is pending. The same user's old password is read but not
// logged in with: that login is meant to be refused.
func (o *Operator) previousLogin(ctx context.Context, s *snapshot, prev, current string) Login {
	l, c := o.read(ctx, s, secret.StagePrevious, prev)
	switch {
	case l.Result != "":
	case l.Username == "" || l.Username == current:
		l.Result, l.Detail = LoginNotTried, notTriedPrevious
	default:
		if why := o.pendingChanges(ctx, s, l.Username); why != "" {
			l.Result, l.Detail = LoginNotTried, why
		} else {
			o.login(ctx, &l, c)
		}
	}
	return l
}

// pendingChanges explains why user's password may have changed under its
// stored value: AWSPENDING sits on another version than AWSCURRENT and
// names user, so that rotation's setSecret may already have set the new
// password (a login with the old one could be refused and counted by a
// lockout policy). "" when no such rotation is pending.
func (o *Operator) pendingChanges(ctx context.Context, s *snapshot, user string) string {
	p, ok := s.pendingElsewhere()
	if !ok {
		return ""
	}
	l, _ := o.read(ctx, s, secret.StagePending, p)
	if l.Result == LoginNoValue || (l.Result == "" && l.Username != user) {
		return "" // createSecret has not stored a value, or another user
	}
	return fmt.Sprintf("a rotation of this user is pending (AWSPENDING on version %s): its setSecret may already have changed the password, so the login could be refused and counted by a lockout policy", p)
}
