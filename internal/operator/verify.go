package operator

import (
	"context"
	"fmt"
	"strings"
)

// Rotation strategies `verify` can tell apart.
const (
	ModeSingleUser       = "single user"
	ModeAlternatingUsers = "alternating users"
	ModeUnknown          = "unknown"
)

// VerifyReport is what `verify` prints.
type VerifyReport struct {
	Name        string `json:"name"`
	ARN         string `json:"arn"`
	Current     Login  `json:"current"`
	Previous    *Login `json:"previous,omitempty"`
	Mode        string `json:"mode"`
	Explanation string `json:"explanation"`
	OK          bool   `json:"ok"`
}

// ErrLoginFailed is matched by Verify errors where AWSCURRENT does not log in.
var ErrLoginFailed = fmt.Errorf("AWSCURRENT does not log in")

// Verify logs in with AWSCURRENT and reports whether AWSPREVIOUS still
// works: after a single-user rotation the previous password is refused,
// while alternating-users rotation keeps the previous user valid. It is
// an error wrapping [ErrLoginFailed] when AWSCURRENT does not log in.
func (o *Operator) Verify(ctx context.Context, secretID string) (*VerifyReport, error) {
	s, err := o.snapshot(ctx, secretID)
	if err != nil {
		return nil, err
	}
	r := &VerifyReport{Name: s.name(), ARN: s.arn(), Mode: ModeUnknown}
	cur, ok := s.byStage[StageCurrent]
	if !ok {
		return r, fmt.Errorf("%w: no version of %s is labelled AWSCURRENT", ErrLoginFailed, r.Name)
	}
	r.Current = o.tryLogin(ctx, s, StageCurrent, cur)
	r.OK = r.Current.Result == LoginAccepted
	if prev, ok := s.byStage[StagePrevious]; ok && prev != cur {
		l := o.tryLogin(ctx, s, StagePrevious, prev)
		r.Previous = &l
	}
	switch p := r.Previous; {
	case p == nil:
		r.Explanation = "no AWSPREVIOUS version yet (the secret was never rotated)"
	case p.Username != "" && p.Username != r.Current.Username:
		r.Mode = ModeAlternatingUsers
		r.Explanation = fmt.Sprintf("AWSPREVIOUS is another user (%s); its login: %s", p.Username, p.Result)
	case p.Result == LoginRefused:
		r.Mode = ModeSingleUser
		r.Explanation = "AWSPREVIOUS is the same user and its old password is refused: rotation changes this user's password in place"
	case p.Result == LoginAccepted:
		r.Explanation = "AWSPREVIOUS is the same user and its password still works: the last rotation did not change the database password"
	default:
		r.Explanation = fmt.Sprintf("AWSPREVIOUS could not be checked (%s)", p.Result)
	}
	if !r.OK {
		return r, fmt.Errorf("%w: %s", ErrLoginFailed, strings.TrimSpace(r.Current.Result+" "+r.Current.Detail))
	}
	return r, nil
}
