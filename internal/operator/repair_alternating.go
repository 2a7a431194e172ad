package operator

import (
	"context"

	"github.com/example/secret-rotation/internal/secret"
)

// alternatingPending decides, for an alternating-users secret whose
// AWSCURRENT logs in, whether the pending rotation's setSecret ran. Its
// AWSPENDING names the other user (the one AWSPREVIOUS names) with a new
// password, and that user is what setSecret changes: AWSCURRENT's user is
// untouched, so it logging in says nothing about the rotation. The
// evidence, with as few refused logins as possible:
//
//  1. AWSPREVIOUS, when it names the pending user: accepted means the old
//     password is still set, so setSecret did not run (no refused login,
//     and clients still using that user keep their password: AWSPENDING
//     is removed without a login with it).
//  2. Otherwise AWSPENDING itself: accepted means setSecret ran, and
//     repair finishes the rotation (every labelled version then logs in:
//     AWSCURRENT the pending user, AWSPREVIOUS the current one); refused
//     means it did not apply, and AWSPENDING is removed. When AWSPREVIOUS
//     was refused first, its password was already dead, so that refusal
//     cost no client anything.
//
// A pending value naming the current user (not what this strategy
// stores) is handled as for a single user: not logged in with, removed.
// login and record are Repair's: they remember refusals and stop the
// search at a blocked account or an error.
func (o *Operator) alternatingPending(ctx context.Context, s *snapshot, pending, currentUser string,
	login func(stage, version string) (Login, credential), record func(Login) Login) Login {
	pendL, c := o.read(ctx, s, secret.StagePending, pending)
	if pendL.Result != "" || c.value == "" {
		return record(pendL)
	}
	if pendL.Username == currentUser {
		pendL.Result, pendL.Detail = LoginNotTried, "AWSCURRENT logs in and AWSPENDING names the same user, so AWSPENDING is removed either way"
		return record(pendL)
	}
	cur := s.byStage[secret.StageCurrent]
	if prev, ok := s.byStage[secret.StagePrevious]; ok && prev != pending && prev != cur {
		pl, _ := o.read(ctx, s, secret.StagePrevious, prev)
		if pl.Result == "" && pl.Username == pendL.Username {
			prevL, _ := login(secret.StagePrevious, prev)
			switch prevL.Result {
			case LoginAccepted:
				pendL.Result, pendL.Detail = LoginNotTried, "AWSPREVIOUS names the same user and still logs in with its old password, so setSecret did not run"
				return record(pendL)
			case LoginRefused:
			default: // blocked or error: Repair stops and changes nothing
				return pendL
			}
		}
	}
	pendL, _ = login(secret.StagePending, pending)
	return pendL
}
