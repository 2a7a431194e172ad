package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/secret"
)

// Cause is the doctor's verdict on one secret.
type Cause string

// Causes, from what the doctor can see.
const (
	CauseHealthy             Cause = "healthy"
	CauseDatabaseUnreachable Cause = "database unreachable"
	CauseTLS                 Cause = "TLS/CA failure"
	CausePasswordChanged     Cause = "password changed outside rotation"
	CauseStuckAfterSet       Cause = "stuck after setSecret"
	CauseStuckAfterCreate    Cause = "stuck after createSecret"
	CauseMasterMidRotation   Cause = "master mid-rotation"
	CauseRotationDisabled    Cause = "rotation disabled"
	CauseAccountBlocked      Cause = "account blocked"
	CauseSMUnreachable       Cause = "Secrets Manager unreachable"
	CauseUnknown             Cause = "unknown"
)

// Diagnosis is what the doctor saw and did for one secret.
type Diagnosis struct {
	Secret string `json:"secret"`
	ARN    string `json:"arn,omitempty"`
	Cause  Cause  `json:"cause"`
	// Why is the cause in one line.
	Why      string   `json:"why"`
	Evidence []string `json:"evidence"`
	// Action is what the doctor changed ("nothing ..." when nothing).
	Action string `json:"action"`
	// Next is the one command an operator should run ("" when none).
	Next string `json:"next,omitempty"`
	// Repaired: labels were moved; Retried: a rotation was started.
	Repaired bool `json:"repaired"`
	Retried  bool `json:"retried"`
	// Waiting: a stuck-looking rotation younger than the stuck-after age,
	// left alone because its function may still be running; the
	// scheduled sweep looks at it again.
	Waiting bool `json:"waiting,omitempty"`
	// stuckSince is when the pending rotation became stuck (its version's
	// creation plus the stuck-after age); zero without one. The scheduled
	// sweep reports a stuck rotation once, at the first sweep after it.
	stuckSince time.Time
}

func (g *Diagnosis) add(format string, args ...any) {
	g.Evidence = append(g.Evidence, fmt.Sprintf(format, args...))
}

// Diagnose judges one secret and, when the configuration allows and the
// verdict is a stuck rotation that rotatectl's guard lets repair
// (stuck past the stuck-after age, and [operator.PlanRepair] found a
// login that decides the outcome and no error), repairs it and retries the rotation once.
// It never writes a secret value or a database password. Errors are
// part of the diagnosis (cause unknown), not returned.
func (d *Doctor) Diagnose(ctx context.Context, secretID string) *Diagnosis {
	g := &Diagnosis{Secret: secretID, Action: "nothing changed"}
	d.diagnose(ctx, g)
	d.log.Info("diagnosis", "secret", g.Secret, "cause", string(g.Cause), "action", g.Action, "repaired", g.Repaired, "retried", g.Retried)
	return g
}

func (d *Doctor) diagnose(ctx context.Context, g *Diagnosis) {
	id := g.Secret
	st, err := d.op.Status(ctx, id)
	smOK := d.probeEndpoint(ctx, g)
	if err != nil {
		g.add("Secrets Manager: %s", err)
		if !smOK {
			g.set(CauseSMUnreachable, "the doctor, in the rotation function's subnets, cannot reach the Secrets Manager endpoint; neither can the function", "rotatectl status "+id)
		} else {
			g.set(CauseUnknown, "the secret cannot be read: "+err.Error(), "rotatectl status "+id)
		}
		return
	}
	g.Secret, g.ARN = st.Name, st.ARN
	d.describe(g, st)
	id = st.ARN
	next := func(cmd string) string { return "rotatectl " + cmd + " " + st.Name }

	cur, err := d.op.Current(ctx, id)
	if err != nil {
		g.add("AWSCURRENT: %s", err)
		g.set(CauseUnknown, "the AWSCURRENT value cannot be read or parsed", next("status"))
		d.addLogs(ctx, g, st)
		return
	}
	pending := st.Pending()

	db := d.database(ctx, cur.Host, cur.Port)
	d.describeDB(g, db, cur)
	switch {
	case !db.OK() || db.GreetingErr != "":
		g.set(CauseDatabaseUnreachable, fmt.Sprintf("the database %s cannot be reached from the rotation function's subnets", db.Addr),
			"once the security group, route or DNS is fixed: "+next(repairOrVerify(pending)))
		d.addLogs(ctx, g, st)
		return
	case db.TLSErr != "" && cur.SSL == secret.SSLRequired:
		g.set(CauseTLS, "the database's TLS certificate does not verify against the CAs the rotation function trusts (the Amazon RDS bundle plus DB_CA_BUNDLE)",
			"once the function trusts the server's CA (DB_CA_BUNDLE) or the certificate matches the host: "+next(repairOrVerify(pending)))
		d.addLogs(ctx, g, st)
		return
	}

	if cur.MasterARN != "" {
		if d.masterMidRotation(ctx, g, cur.MasterARN) {
			d.addLogs(ctx, g, st)
			return
		}
	}

	plan, perr := d.op.PlanRepairFromStatus(ctx, st)
	if plan == nil {
		g.add("logins: %s", perr)
		g.set(CauseUnknown, "the secret's versions cannot be read", next("status"))
		d.addLogs(ctx, g, st)
		return
	}
	for _, l := range plan.Report.Logins {
		g.add("%s", loginLine(l))
	}
	d.judge(g, st, cur, plan, perr)
	if g.Cause != CauseHealthy && g.Cause != CauseRotationDisabled {
		d.addLogs(ctx, g, st)
	}
	if g.Cause == CauseStuckAfterSet || g.Cause == CauseStuckAfterCreate {
		d.repair(ctx, g, st, plan, perr)
	}
}

// judge sets the cause from the logins and actions of a repair plan.
func (d *Doctor) judge(g *Diagnosis, st *operator.StatusReport, cur *secret.Secret, plan *operator.RepairPlan, perr error) {
	next := func(cmd string) string { return "rotatectl " + cmd + " " + st.Name }
	for _, l := range plan.Report.Logins {
		switch {
		case l.Result == operator.LoginBlocked:
			g.set(CauseAccountBlocked, fmt.Sprintf("the database blocks every login of %s after too many failed logins; applications cannot log in either", l.Username),
				"unblock the account (MariaDB: FLUSH PRIVILEGES; MySQL: ALTER USER ... ACCOUNT UNLOCK), then: "+next("verify"))
			return
		case l.Result == operator.LoginError && errors.Is(l.Err, engine.ErrCertificate):
			g.set(CauseTLS, "the database's TLS certificate does not verify against the CAs the rotation function trusts",
				"once the function trusts the server's CA (DB_CA_BUNDLE): "+next(repairOrVerify(plan.Pending)))
			return
		case l.Result == operator.LoginError:
			g.set(CauseDatabaseUnreachable, "logging in to the database fails before the password is checked",
				"once the database accepts connections from the rotation function: "+next(repairOrVerify(plan.Pending)))
			return
		}
	}
	curL, _ := plan.Login(secret.StageCurrent)
	curOK := curL.Result == operator.LoginAccepted
	if plan.Pending == nil {
		switch {
		case curOK && !st.RotationEnabled:
			fn := d.cfg.RotationFunctionARN
			if fn == "" {
				fn = "FUNCTION_ARN"
			}
			g.set(CauseRotationDisabled, "AWSCURRENT logs in, but automatic rotation is off for this secret", "rotatectl rotate --function "+fn+" --wait "+st.Name)
			g.Action = "nothing changed"
		case curOK:
			g.set(CauseHealthy, "AWSCURRENT logs in and no rotation is pending", "")
			g.Action = "healthy, nothing done"
		default:
			g.set(CausePasswordChanged, "the database refuses AWSCURRENT and no rotation is pending: the password, or the stored value, was changed by hand", next("repair --dry-run"))
		}
		return
	}
	pendL, _ := plan.Login(secret.StagePending)
	alternating := cur.AlternatingUsers()
	switch {
	// rotatectl's plan finishes the rotation: the database accepts
	// AWSPENDING. For a single user AWSCURRENT is then refused; for
	// alternating users AWSCURRENT's account still logs in, since
	// setSecret changed only the other one.
	case pendL.Result == operator.LoginAccepted && movesCurrentTo(plan, plan.Pending.ID):
		why := "setSecret changed the database password to AWSPENDING's, finishSecret never moved AWSCURRENT"
		if alternating {
			why = fmt.Sprintf("setSecret gave %s (AWSPENDING) its new password, finishSecret never moved AWSCURRENT; %s (AWSCURRENT) still logs in", pendL.Username, curL.Username)
		}
		g.set(CauseStuckAfterSet, why, next("repair"))
	case curOK:
		g.set(CauseStuckAfterCreate, stuckAfterCreateWhy(plan, curL, pendL, alternating), next("repair"))
	default:
		g.set(CausePasswordChanged, "the database accepts neither AWSCURRENT nor AWSPENDING", next("repair --dry-run"))
		if perr != nil {
			g.add("rotatectl repair would refuse: %s", perr)
		}
	}
}

// stuckAfterCreateWhy explains a pending rotation that AWSCURRENT
// survived and whose AWSPENDING rotatectl removes.
func stuckAfterCreateWhy(plan *operator.RepairPlan, curL, pendL operator.Login, alternating bool) string {
	switch {
	case pendL.Result == operator.LoginNoValue:
		return "AWSPENDING has no value: the rotation stopped in createSecret; the database still uses AWSCURRENT"
	case !alternating:
		return "the database still uses AWSCURRENT: the rotation stopped before setSecret changed the password"
	case pendL.Result == operator.LoginRefused:
		return fmt.Sprintf("the database refuses AWSPENDING's new password for %s: setSecret did not apply it; %s (AWSCURRENT) logs in", pendL.Username, curL.Username)
	}
	if prevL, ok := plan.Login(secret.StagePrevious); ok && prevL.Result == operator.LoginAccepted && prevL.Username == pendL.Username {
		return fmt.Sprintf("%s, the account AWSPENDING names, still logs in with its AWSPREVIOUS password: the rotation stopped before setSecret; %s (AWSCURRENT) logs in", pendL.Username, curL.Username)
	}
	// rotatectl's plan did not tell whether setSecret ran; either way
	// applications use AWSCURRENT's account, which still logs in.
	return fmt.Sprintf("the rotation of %s (AWSPENDING) did not finish; %s (AWSCURRENT) logs in, so removing AWSPENDING loses nothing applications use", orNone(pendL.Username), curL.Username)
}

// movesCurrentTo reports whether the plan moves AWSCURRENT to version.
func movesCurrentTo(plan *operator.RepairPlan, version string) bool {
	for _, a := range plan.Report.Actions {
		if a.Stage == secret.StageCurrent && a.To == version {
			return true
		}
	}
	return false
}

// repair applies the plan of a stuck rotation when allowed, then retries
// the rotation once.
func (d *Doctor) repair(ctx context.Context, g *Diagnosis, st *operator.StatusReport, plan *operator.RepairPlan, perr error) {
	next := func(cmd string) string { return "rotatectl " + cmd + " " + st.Name }
	if plan.Pending != nil && !plan.InProgress {
		g.stuckSince = plan.Pending.Created.Add(d.cfg.StuckAfter)
	}
	ownRetry := plan.Pending != nil && IsRetryVersion(plan.Pending.ID)
	if ownRetry {
		g.add("AWSPENDING (version %s) is the doctor's own retry (ClientRequestToken prefix %q)", plan.Pending.ID, RetryTokenPrefix)
	}
	switch {
	case plan.InProgress:
		g.Waiting = true
		g.Action = fmt.Sprintf("nothing changed: AWSPENDING (version %s) is younger than %s (%s), so its rotation function may still be running; "+
			"the doctor's scheduled sweep re-checks it and repairs it once it is older", plan.Pending.ID, d.cfg.StuckAfter, EnvStuckAfter)
		return
	case perr != nil:
		g.Action = "nothing changed: " + perr.Error()
		g.Next = next("repair --dry-run")
		return
	case !d.cfg.Repair:
		g.Action = fmt.Sprintf("nothing changed: repairs are off (%s=false); the repair would %s", EnvRepair, actionsText(plan.Report.Actions, true))
		return
	case !ownRetry && d.retryTimeout(ctx) < min(d.configuredRetryTimeout(), minRetryTime):
		// A retry cut short would look like the doctor's own failed retry
		// to the next sweep, which would then not retry it.
		g.Action = "nothing changed: too little of this invocation's time is left to repair and retry; the next scheduled sweep does it"
		return
	}
	r, err := d.op.ApplyRepair(ctx, plan)
	if r != nil && r.Applied {
		g.Repaired = true
	}
	if err != nil {
		g.Action = fmt.Sprintf("repair failed: %s", err)
		if g.Repaired {
			g.Action = fmt.Sprintf("repaired (%s) but the check afterwards failed: %s", actionsText(plan.Report.Actions), err)
		}
		g.Next = next("status")
		return
	}
	g.Action = "repaired: " + actionsText(plan.Report.Actions)
	if ownRetry {
		// The stuck rotation was the doctor's own retry: retrying again
		// would repeat failure, report, repair and retry forever.
		g.Next = d.rotateAgain(st.Name)
		g.Action += "; the doctor's retry failed the same way; not retrying: " + g.Next
		return
	}
	g.Retried = true
	rot, err := d.op.Rotate(ctx, st.ARN, operator.RotateOptions{Wait: true, Timeout: d.retryTimeout(ctx),
		TokenPrefix: RetryTokenPrefix, LogGroup: d.cfg.LogGroup})
	if err != nil {
		g.Action += fmt.Sprintf("; retried the rotation once: it failed: %s", err)
		g.Next = next("status")
		return
	}
	g.Action += fmt.Sprintf("; retried the rotation once: finished, the new AWSCURRENT (version %s) logs in", rot.Version)
	g.Next = ""
}

// RetryTokenPrefix starts the ClientRequestToken of the doctor's retried
// rotations, which Secrets Manager makes the new version's id: a stuck
// AWSPENDING version with this prefix is a retry of the doctor's that
// failed, and the doctor does not retry it again (see [IsRetryVersion]).
// "doctor-" plus a UUID is 43 characters, within RotateSecret's 32..64.
const RetryTokenPrefix = "doctor-"

// IsRetryVersion reports whether a version id is the token of a rotation
// the doctor retried.
func IsRetryVersion(id string) bool { return strings.HasPrefix(id, RetryTokenPrefix) }

// rotateAgain is the next command after the doctor's own retry failed:
// find the cause in the rotation function's log, then rotate by hand.
func (d *Doctor) rotateAgain(name string) string {
	return fmt.Sprintf("once the cause in %s is fixed: rotatectl rotate --wait %s", d.logGroupText(), name)
}

// logGroupText names the rotation function's log group as configured
// (DOCTOR_ROTATION_LOG_GROUP) in the texts the doctor writes.
func (d *Doctor) logGroupText() string {
	if d.cfg.LogGroup == "" {
		return "the rotation function's log group (see its LoggingConfig)"
	}
	return "the rotation function's log group " + d.cfg.LogGroup
}

// minRetryTime is the least time a retry is started with (or the
// configured DOCTOR_RETRY_TIMEOUT when shorter).
const minRetryTime = 30 * time.Second

func (d *Doctor) configuredRetryTimeout() time.Duration {
	if d.cfg.RetryTimeout <= 0 {
		return DefaultRetryTimeout
	}
	return d.cfg.RetryTimeout
}

// retryTimeout is the configured bound, shortened to leave time to
// report before the invocation's own deadline.
func (d *Doctor) retryTimeout(ctx context.Context) time.Duration {
	t := d.configuredRetryTimeout()
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - operator.TimeoutGrace - 5*time.Second; left < t {
			t = max(left, time.Second)
		}
	}
	return t
}

func (g *Diagnosis) set(c Cause, why, next string) {
	g.Cause, g.Why, g.Next = c, why, next
}

// actionsText describes label changes in the past tense ("moved ..."),
// or as a plan when planned is set ("move ...").
func actionsText(as []operator.Action, planned ...bool) string {
	move, remove := "moved", "removed"
	if len(planned) > 0 && planned[0] {
		move, remove = "move", "remove"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		if a.To == "" {
			parts[i] = fmt.Sprintf("%s %s from version %s", remove, a.Stage, a.From)
		} else {
			parts[i] = fmt.Sprintf("%s %s from version %s to version %s", move, a.Stage, a.From, a.To)
		}
	}
	return strings.Join(parts, ", ")
}

func repairOrVerify(pending *operator.Version) string {
	if pending != nil {
		return "repair"
	}
	return "verify"
}

// masterMidRotation reports whether the master secret of an
// alternating-users secret has a rotation pending. The master user sets
// this secret's passwords: while its own password may be changing, a
// retried rotation of this secret can fail the way the first one did
// (the function logs in with the master's AWSCURRENT, then AWSPENDING,
// and the master's rotation may finish in between), and the master's
// labels are the master's to repair. So the doctor logs in with nothing,
// changes nothing, and names the command for the master: rotatectl
// repair once its rotation is stuck by rotatectl's rule (the same
// stuck-after age), rotatectl status while it may still be running.
func (d *Doctor) masterMidRotation(ctx context.Context, g *Diagnosis, masterARN string) bool {
	mst, err := d.op.Status(ctx, masterARN)
	if err != nil {
		g.add("master secret %s: %s", masterARN, err)
		return false
	}
	p := mst.Pending()
	if p == nil {
		g.add("master secret %s: %s, no rotation pending", mst.Name, mst.Verdict)
		return false
	}
	g.add("master secret %s: AWSPENDING on version %s (created %s): %s", mst.Name, p.ID, fmtTime(p.Created), mst.Verdict)
	if mst.Verdict == operator.VerdictStuck {
		g.set(CauseMasterMidRotation, fmt.Sprintf("the master secret %s, whose user sets this secret's passwords, is stuck mid-rotation; this secret is judged once the master is repaired", mst.Name),
			"rotatectl repair "+mst.Name)
	} else {
		g.set(CauseMasterMidRotation, fmt.Sprintf("the master secret %s, whose user sets this secret's passwords, is itself mid-rotation (younger than %s: it may still be running)", mst.Name, d.cfg.StuckAfter),
			"rotatectl status "+mst.Name)
	}
	g.Action = "nothing changed: no login and no retry while the master user's password may be changing"
	return true
}

func (d *Doctor) describe(g *Diagnosis, st *operator.StatusReport) {
	rot := "off"
	if st.RotationEnabled {
		rot = "on"
	}
	line := "rotation " + rot
	if st.Function != "" {
		line += ", function " + st.Function
	}
	if st.Rules != "" {
		line += ", " + st.Rules
	}
	g.add("%s; last rotated %s", line, fmtTimePtr(st.LastRotated))
	// AWSCURRENT first, then AWSPENDING, then AWSPREVIOUS: the order an
	// operator reads them in, and stable when creation times tie.
	vs := slices.Clone(st.Versions)
	slices.SortStableFunc(vs, func(a, b operator.Version) int { return stageRank(a.Stages) - stageRank(b.Stages) })
	for _, v := range vs {
		g.add("version %s %s, created %s", v.ID, strings.Join(v.Stages, ","), fmtTime(v.Created))
	}
}

func stageRank(stages []string) int {
	for i, s := range []string{secret.StageCurrent, secret.StagePending, secret.StagePrevious} {
		if slices.Contains(stages, s) {
			return i
		}
	}
	return 3
}

func (d *Doctor) describeDB(g *Diagnosis, p DBProbe, cur *secret.Secret) {
	if p.Err != "" {
		g.add("database %s: %s", p.Addr, p.Err)
		return
	}
	g.add("database %s: resolves to %s, TCP connection accepted", p.Addr, strings.Join(p.Addresses, ", "))
	if p.GreetingErr != "" {
		g.add("database greeting: %s", p.GreetingErr)
		return
	}
	g.add("server %s, default authentication plugin %s", p.ServerVersion, orNone(p.AuthPlugin))
	switch {
	case p.TLSErr != "":
		g.add("TLS (secret's ssl: %s): handshake failed: %s", cur.SSL, p.TLSErr)
	case p.TLS != "":
		g.add("TLS (secret's ssl: %s): %s", cur.SSL, p.TLS)
	}
}

// probeEndpoint adds the Secrets Manager endpoint's reachability and
// reports whether it answered (true when no endpoint is configured).
func (d *Doctor) probeEndpoint(ctx context.Context, g *Diagnosis) bool {
	if d.endpoint == "" {
		return true
	}
	r := d.endpointReach(ctx, d.endpoint)
	if !r.OK() {
		g.add("Secrets Manager endpoint %s: %s", r.Addr, r.Err)
		return false
	}
	g.add("Secrets Manager endpoint %s: resolves to %s, TCP connection accepted", r.Addr, strings.Join(r.Addresses, ", "))
	return true
}

// addLogs quotes the rotation function's last error lines for the
// secret, from the last LogWindow.
func (d *Doctor) addLogs(ctx context.Context, g *Diagnosis, st *operator.StatusReport) {
	if d.logs == nil || d.cfg.LogGroup == "" {
		return
	}
	now := d.now()
	lines, err := errorLines(ctx, d.logs, d.cfg.LogGroup, st.ARN, now.Add(-LogWindow), now)
	if err != nil {
		g.add("rotation function log: %s", err)
	}
	if len(lines) == 0 && err == nil {
		g.add("rotation function log %s: no error for this secret in the last %s", d.cfg.LogGroup, LogWindow)
	}
	for _, l := range lines {
		g.add("rotation function log: %s", l)
	}
}

func loginLine(l operator.Login) string {
	s := "login with " + l.Stage + " (version " + l.Version
	if l.Username != "" {
		s += ", user " + l.Username
	}
	s += "): " + l.Result
	if l.Detail != "" {
		s += " (" + l.Detail + ")"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return fmtTime(*t)
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
