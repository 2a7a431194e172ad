package operator

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/secret"
)

// Action is one staging-label change `repair` makes.
type Action struct {
	// Stage is the label moved or removed.
	Stage string `json:"stage"`
	// From is the version the label is removed from ("" when the label
	// is only attached).
	From string `json:"from,omitempty"`
	// To is the version the label is moved to ("" for a removal).
	To     string `json:"to,omitempty"`
	Reason string `json:"reason"`
}

// String describes the action in one line.
func (a Action) String() string {
	if a.To == "" {
		return fmt.Sprintf("remove %s from version %s: %s", a.Stage, a.From, a.Reason)
	}
	return fmt.Sprintf("move %s from version %s to version %s: %s", a.Stage, a.From, a.To, a.Reason)
}

// RepairReport is what `repair` prints.
type RepairReport struct {
	Name    string   `json:"name"`
	ARN     string   `json:"arn"`
	Logins  []Login  `json:"logins"`
	Actions []Action `json:"actions"`
	DryRun  bool     `json:"dryRun"`
	Applied bool     `json:"applied"`
	Result  string   `json:"result"`
}

// ErrCannotRepair is matched by Repair errors where no safe change exists
// (the database accepts none of the stored passwords, or it cannot be
// reached to tell). Nothing is changed in that case.
var ErrCannotRepair = errors.New("cannot repair safely")

// Repair puts a secret whose rotation is stuck back into a state from
// which RotateSecret works and AWSCURRENT logs in, changing staging labels
// only (never a value or the database). It first finds which stored
// password the database accepts, logging in with AWSCURRENT, then the
// AWSPENDING version when it is not AWSCURRENT, then AWSPREVIOUS, then
// every version without a staging label (newest first), and stops at the
// first one accepted. Every refused login counts toward an
// account-lockout policy, so it never logs in when the answer could not
// change the plan, never twice with the same credentials, and stops when
// the account is blocked. Then it decides:
//
//   - AWSPENDING has no value (createSecret never stored one), or
//     AWSCURRENT works: remove AWSPENDING (applications keep the password
//     they use; AWSPENDING is not logged in with, since it goes either
//     way).
//   - The database accepts AWSPENDING but not AWSCURRENT: setSecret
//     changed the password and finishSecret never ran. Removing
//     AWSPENDING would leave every stored password but the pending one
//     useless (and the next rotation could not log in), so repair
//     finishes the rotation instead: it moves AWSCURRENT to the pending
//     version, exactly what finishSecret does (AWSPREVIOUS follows
//     automatically), then removes AWSPENDING.
//   - Only AWSPREVIOUS works: move AWSCURRENT back to it (and remove
//     AWSPENDING if it is elsewhere).
//   - Only a version without labels works (a password that lost its
//     labels, e.g. after values were put by hand): move AWSCURRENT to it
//     (and remove AWSPENDING if it is elsewhere).
//   - Alternating users (AWSCURRENT names a master secret) with
//     AWSCURRENT working: AWSPENDING names the other user, whose password
//     is what setSecret changes, so AWSPREVIOUS (that user's old
//     password) and then AWSPENDING tell whether setSecret ran: finish
//     the rotation if it did, remove AWSPENDING if not.
//   - Nothing works, the account is blocked, or a login cannot be
//     checked: change nothing and return an error wrapping
//     [ErrCannotRepair].
//
// A rotation whose AWSPENDING version is younger than the stuck-after age
// ([WithStuckAfter], the age from which `status` says "stuck") may still
// be running: its setSecret can change the database password between the
// logins above and the label change, and removing AWSPENDING then leaves
// the database with a password no label points to. Repair therefore
// plans but refuses to change anything (error wrapping [ErrCannotRepair])
// while the pending version is that young; a pending version of unknown
// age counts as old.
//
// With dryRun the plan is returned and nothing is changed.
//
// Repair is [Operator.PlanRepair] followed, unless dryRun or the plan is
// refused, by [Operator.ApplyRepair].
func (o *Operator) Repair(ctx context.Context, secretID string, dryRun bool) (*RepairReport, error) {
	p, err := o.PlanRepair(ctx, secretID)
	if p == nil {
		return nil, err
	}
	p.Report.DryRun = dryRun
	if err != nil || len(p.Report.Actions) == 0 {
		return p.Report, err
	}
	if dryRun {
		p.Report.Result = "dry run: nothing changed"
		return p.Report, nil
	}
	return o.ApplyRepair(ctx, p)
}

// RepairPlan is what [Operator.PlanRepair] found and decided, before any
// change: the logins made, the label changes planned, and what the
// decision rests on, for callers that judge a secret (the rotation
// doctor) as well as for Repair.
type RepairPlan struct {
	// Report holds the logins, the planned actions and, when nothing is
	// to be (or can be) changed, the Result.
	Report *RepairReport
	// Pending is the version holding AWSPENDING when that is not the
	// AWSCURRENT version (nil otherwise): the state in which RotateSecret
	// refuses to start.
	Pending *Version
	// InProgress is true when Pending is younger than the stuck-after
	// age: its rotation function may still be running, so the plan is
	// refused.
	InProgress bool
	snap       *snapshot
}

// Login returns the plan's login with the version holding stage, if one
// was made or read.
func (p *RepairPlan) Login(stage string) (Login, bool) {
	for _, l := range p.Report.Logins {
		if l.Stage == stage {
			return l, true
		}
	}
	return Login{}, false
}

// PlanRepair makes the logins and decisions of [Operator.Repair] and
// changes nothing. Its error is nil when the plan may be applied (or
// there is nothing to do), wraps [ErrCannotRepair] when no safe change
// exists or the rotation may still be running (the plan and its
// Report.Result say why), and is any other error, with a nil plan, when
// the secret cannot be read.
func (o *Operator) PlanRepair(ctx context.Context, secretID string) (*RepairPlan, error) {
	s, err := o.snapshot(ctx, secretID)
	if err != nil {
		return nil, err
	}
	return o.planRepair(ctx, s)
}

// PlanRepairFromStatus is [Operator.PlanRepair] on the versions and
// labels that st, a report of [Operator.Status], was made from, for a
// caller that judged the secret from st and would otherwise read them
// again (the rotation doctor). A report not made by Status is read anew.
func (o *Operator) PlanRepairFromStatus(ctx context.Context, st *StatusReport) (*RepairPlan, error) {
	if st.snap == nil {
		return o.PlanRepair(ctx, st.ARN)
	}
	return o.planRepair(ctx, st.snap)
}

func (o *Operator) planRepair(ctx context.Context, s *snapshot) (*RepairPlan, error) {
	r := &RepairReport{Name: s.name(), ARN: s.arn(), Actions: []Action{}}
	p := &RepairPlan{Report: r, snap: s}
	cur, ok := s.byStage[secret.StageCurrent]
	if !ok {
		return p, fmt.Errorf("%w: no version of %s is labelled AWSCURRENT", ErrCannotRepair, r.Name)
	}
	var (
		refused []credential // credentials the database refused
		found   *Login       // the first login accepted
		stopped *Login       // a login that ends the search (blocked, error)
	)
	record := func(l Login) Login {
		r.Logins = append(r.Logins, l)
		switch l := l; l.Result {
		case LoginAccepted:
			found = &l
		case LoginBlocked, LoginError:
			stopped = &l
		}
		return l
	}
	login := func(stage, version string) (Login, credential) {
		l, c := o.read(ctx, s, stage, version)
		if l.Result != "" {
			return record(l), c
		}
		for _, old := range refused {
			if old.same(c) {
				l.Result, l.Detail = LoginRefused, "same credentials as a version the database already refused; not tried again"
				return record(l), c
			}
		}
		o.login(ctx, &l, c)
		if l.Result == LoginRefused {
			refused = append(refused, c)
		}
		return record(l), c
	}
	searching := func() bool { return found == nil && stopped == nil }

	curL, curC := login(secret.StageCurrent, cur)
	curOK := curL.Result == LoginAccepted
	pending, pendingElsewhere := s.pendingElsewhere()
	alternating := curC.secret != nil && curC.secret.AlternatingUsers()
	if pendingElsewhere {
		v := s.version(pending)
		p.Pending = &v
		p.InProgress = !v.Created.IsZero() && o.now().Sub(v.Created) < o.stuckAfter
	}
	var pendL Login
	switch {
	case !pendingElsewhere:
	case curOK && alternating:
		pendL = o.alternatingPending(ctx, s, pending, curL.Username, login, record)
	case curOK:
		// AWSPENDING goes either way; a login with it would be a failed
		// one unless setSecret ran, and decides nothing.
		var c credential
		pendL, c = o.read(ctx, s, secret.StagePending, pending)
		if pendL.Result == "" && c.value != "" {
			pendL.Result, pendL.Detail = LoginNotTried, "AWSCURRENT logs in, so AWSPENDING is removed either way"
		}
		record(pendL)
	case searching():
		pendL, _ = login(secret.StagePending, pending)
	}
	prev, hasPrev := s.byStage[secret.StagePrevious]
	if searching() && hasPrev && prev != cur && prev != pending {
		login(secret.StagePrevious, prev)
	}
	for _, v := range s.unlabelled {
		if !searching() {
			break
		}
		login(NoStage, v.ID)
	}
	if stopped != nil && stopped.Result == LoginBlocked {
		r.Result = fmt.Sprintf("%s; %s; nothing changed", ErrAccountBlocked, blockedAdvice)
		return p, fmt.Errorf("%w: %w (at the login with %s, version %s); %s; nothing changed", ErrCannotRepair, ErrAccountBlocked, stopped.Stage, stopped.Version, blockedAdvice)
	}
	if stopped != nil {
		// A refused or working login is evidence; an unreachable
		// database is not, and guessing could lock applications out.
		return p, fmt.Errorf("%w: cannot tell whether the database accepts %s (version %s): %s; nothing changed", ErrCannotRepair, stopped.Stage, stopped.Version, stopped.Detail)
	}
	removePending := func(reason string) {
		r.Actions = append(r.Actions, Action{Stage: secret.StagePending, From: pending, Reason: reason})
	}
	moveCurrent := func(to, reason string) {
		r.Actions = append(r.Actions, Action{Stage: secret.StageCurrent, From: cur, To: to, Reason: reason})
	}
	switch {
	case pendingElsewhere && pendL.Result == LoginNoValue:
		removePending("createSecret never stored a value for it")
	case pendingElsewhere && pendL.Result == LoginAccepted:
		moveCurrent(pending, "the database already uses the pending password (setSecret ran, finishSecret did not); this finishes the rotation as finishSecret would")
		removePending("the rotation it belonged to is now finished")
	case pendingElsewhere && curOK && alternating && pendL.Result == LoginRefused:
		removePending(fmt.Sprintf("the database refuses the new password of %s, so setSecret did not apply it; AWSCURRENT logs in", pendL.Username))
	case pendingElsewhere && curOK && alternating && pendL.Result == LoginNotTried && pendL.Username != curL.Username:
		removePending(fmt.Sprintf("%s still logs in with its AWSPREVIOUS password, so setSecret did not run; AWSCURRENT logs in", pendL.Username))
	case pendingElsewhere && curOK:
		removePending("AWSCURRENT logs in, so applications keep the password they use and the pending one is not needed")
	}
	if !curOK && !(pendingElsewhere && pendL.Result == LoginAccepted) {
		if found == nil {
			r.Result = fmt.Sprintf("the database accepts none of the passwords stored in the secret's %d versions, with or without staging labels; reset the database user's password by hand and store it with put-secret-value", len(s.versions)+len(s.unlabelled))
			return p, fmt.Errorf("%w: %s; nothing changed", ErrCannotRepair, r.Result)
		}
		if pendingElsewhere && len(r.Actions) == 0 {
			removePending("the database refuses it")
		}
		if found.Stage == secret.StagePrevious {
			moveCurrent(found.Version, "the database only accepts the AWSPREVIOUS password")
		} else {
			moveCurrent(found.Version, "the database only accepts the password of this version, which has no staging label any more")
		}
	}
	if len(r.Actions) == 0 {
		r.Result = "nothing to repair: AWSCURRENT logs in and no rotation is pending"
		return p, nil
	}
	if p.InProgress {
		r.Result = fmt.Sprintf("rotation in progress: AWSPENDING is on version %s, created %s, less than %s ago; its rotation function may still be running, so nothing was changed (wait, or pass --stuck-after with a shorter age once it has stopped)",
			pending, formatTime(p.Pending.Created), o.stuckAfter)
		return p, fmt.Errorf("%w: %s", ErrCannotRepair, r.Result)
	}
	return p, nil
}

// ApplyRepair makes the label changes of a plan that [Operator.PlanRepair]
// returned without error, then checks that no rotation is pending any
// more and that AWSCURRENT logs in.
func (o *Operator) ApplyRepair(ctx context.Context, p *RepairPlan) (*RepairReport, error) {
	r := p.Report
	if p.InProgress {
		return r, fmt.Errorf("%w: %s", ErrCannotRepair, r.Result)
	}
	for _, a := range r.Actions {
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(r.ARN), VersionStage: aws.String(a.Stage), RemoveFromVersionId: aws.String(a.From)}
		if a.To != "" {
			in.MoveToVersionId = aws.String(a.To)
		}
		if _, err := o.sm.UpdateSecretVersionStage(ctx, in); err != nil {
			return r, fmt.Errorf("repair %s: %s: %w", r.Name, a, err)
		}
	}
	r.Applied = true
	after, err := o.snapshot(ctx, r.ARN)
	if err != nil {
		return r, fmt.Errorf("re-read after repair: %w", err)
	}
	if p, stuck := after.pendingElsewhere(); stuck {
		return r, fmt.Errorf("after repair AWSPENDING is still on version %s", p)
	}
	if l := o.tryLogin(ctx, after, secret.StageCurrent, after.byStage[secret.StageCurrent]); l.Result != LoginAccepted {
		return r, fmt.Errorf("after repair the database %s AWSCURRENT %s", l.Result, l.Detail)
	}
	r.Result = "repaired: AWSCURRENT logs in and RotateSecret can start a new rotation"
	return r, nil
}
