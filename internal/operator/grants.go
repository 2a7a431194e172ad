package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/secret"
)

// AccountState is what the master user sees of one account.
type AccountState struct {
	Exists bool
	// Grants are the account's privileges at every level (global, schema,
	// table, column, routine), one per object; a privilege held WITH GRANT
	// OPTION adds "GRANT OPTION". Global, column and routine privileges
	// are never declared, so each shows as extra.
	Grants []grant.Grant
}

// GrantChecker reads accounts as the master user of an alternating-users
// secret. [DBChecker] implements it; [New] uses the LoginChecker when it
// implements GrantChecker too, [WithGrantChecker] sets another.
type GrantChecker interface {
	// AccountStates logs in once with masterSecret (a secret string) and
	// returns the state of each account, in order. Its errors never
	// contain a password.
	AccountStates(ctx context.Context, masterSecret string, accounts []engine.Account) ([]AccountState, error)
}

// WithGrantChecker sets how `status` and `verify` read the grants of an
// alternating-users secret's accounts (default: the LoginChecker, if it
// is a GrantChecker; without one the grants are not compared).
func WithGrantChecker(g GrantChecker) Option { return func(o *Operator) { o.grants = g } }

// GrantsReport compares the two accounts of an alternating-users secret
// with the grants the secret declares.
type GrantsReport struct {
	// Master is the master secret the accounts were read with.
	Master string `json:"master"`
	// Declared are the secret's "grants" in canonical form; empty when the
	// secret declares none, and the reference is then the current user's
	// grants (the rotation copies them to the other user).
	Declared  []string `json:"declared"`
	Reference string   `json:"reference"`
	// Accounts is the current user, then the other one. Empty when the
	// grants could not be read (Error says why).
	Accounts []AccountGrants `json:"accounts"`
	Error    string          `json:"error,omitempty"`
}

// References of [GrantsReport].
const (
	ReferenceDeclared    = "declared grants"
	ReferenceCurrentUser = "the current user's grants (none declared)"
)

// AccountGrants is one account against the reference grants.
type AccountGrants struct {
	Account string `json:"account"`
	// Stage is the label of the version naming this user, when there is one.
	Stage  string   `json:"stage,omitempty"`
	Exists bool     `json:"exists"`
	Held   []string `json:"held"`
	// Missing and Extra are the privileges, per object, that the account
	// lacks and has beyond the reference.
	Missing []string `json:"missing"`
	Extra   []string `json:"extra"`
}

// Matches reports whether the account exists with exactly the reference
// grants.
func (a AccountGrants) Matches() bool {
	return a.Exists && len(a.Missing) == 0 && len(a.Extra) == 0
}

// ErrGrantDrift is matched by Verify errors where the user AWSCURRENT
// names does not hold exactly the declared grants.
var ErrGrantDrift = errors.New("grants differ from the declared ones")

// compareGrants reads both accounts of the alternating-users secret cur
// (whose AWSCURRENT user is cur.Username) as the master user and compares
// them with the declared grants. prevStage is the label naming the other
// user ("" if none). It never logs in with the master secret while that
// is mid-rotation: its AWSCURRENT may be refused then, and a refused
// login of the master user counts toward its lockout.
func (o *Operator) compareGrants(ctx context.Context, cur *secret.Secret, prevStage string) *GrantsReport {
	r := &GrantsReport{Master: cur.MasterARN, Declared: []string{}, Accounts: []AccountGrants{}, Reference: ReferenceDeclared}
	if cur.Grants == nil {
		r.Reference = ReferenceCurrentUser
	}
	for _, g := range cur.Grants {
		r.Declared = append(r.Declared, g.String())
	}
	if o.grants == nil {
		r.Error = "no database reader for grants is configured"
		return r
	}
	master, err := o.masterValue(ctx, cur.MasterARN)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	accounts := []engine.Account{{User: cur.Username, Host: cur.UserHost}, {User: grant.Clone(cur.Username), Host: cur.UserHost}}
	states, err := o.grants.AccountStates(ctx, master, accounts)
	if err == nil && len(states) != len(accounts) {
		err = fmt.Errorf("read %d accounts, got %d answers", len(accounts), len(states))
	}
	if err != nil {
		r.Error = "read the accounts as the master user: " + err.Error()
		return r
	}
	want := cur.Grants
	if want == nil {
		want = states[0].Grants
	}
	for i, st := range states {
		ag := AccountGrants{Account: accounts[i].String(), Exists: st.Exists, Held: grantStrings(st.Grants)}
		if i == 0 {
			ag.Stage = secret.StageCurrent
		} else {
			ag.Stage = prevStage
		}
		if st.Exists {
			missing, extra := engine.DiffGrants(st.Grants, want)
			ag.Missing, ag.Extra = grantStrings(missing), grantStrings(extra)
		} else {
			ag.Missing, ag.Extra = grantStrings(want), []string{}
		}
		r.Accounts = append(r.Accounts, ag)
	}
	return r
}

// masterValue reads the master secret's AWSCURRENT value, unless a
// rotation of the master secret is pending.
func (o *Operator) masterValue(ctx context.Context, arn string) (string, error) {
	d, err := o.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("describe master secret: %w", err)
	}
	var cur, pending string
	for v, stages := range d.VersionIdsToStages {
		for _, st := range stages {
			switch st {
			case secret.StageCurrent:
				cur = v
			case secret.StagePending:
				pending = v
			}
		}
	}
	if pending != "" && pending != cur {
		return "", fmt.Errorf("the master secret is mid-rotation (AWSPENDING on version %s), so its AWSCURRENT may be refused, and a refused login of the master user counts toward its lockout", pending)
	}
	if cur == "" {
		return "", errors.New("no version of the master secret is labelled AWSCURRENT")
	}
	v, err := o.value(ctx, aws.ToString(d.ARN), cur)
	if err != nil {
		return "", fmt.Errorf("read master secret: %w", err)
	}
	return v, nil
}

func grantStrings(gs []grant.Grant) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.String())
	}
	return out
}

// describeDrift says in one phrase how an account differs.
func describeDrift(a AccountGrants) string {
	if !a.Exists {
		return "does not exist"
	}
	var parts []string
	if len(a.Missing) > 0 {
		parts = append(parts, "missing "+strings.Join(a.Missing, "; "))
	}
	if len(a.Extra) > 0 {
		parts = append(parts, "extra "+strings.Join(a.Extra, "; "))
	}
	if len(parts) == 0 {
		return "as declared"
	}
	return strings.Join(parts, ", ")
}
