package operator_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/operator"
)

// status and verify of an alternating-users secret show which users the
// database accepts and how each user's grants compare with the declared
// ones, from logins that are all expected to work: the server counts no
// refused login for either user or the master user.
func TestAlternatingUsersStatusAndVerify(t *testing.T) {
	tests := []struct {
		name string
		opts []altOption
		// setup brings the rig into the state reported.
		setup func(a *altRig)
		// code per command: status, verify.
		statusCode, verifyCode int
	}{
		{"alt_never_rotated", nil, func(a *altRig) {}, 0, 0},
		{"alt_rotated_previous_drifted", nil, func(a *altRig) {
			a.rotate()
			a.sql("GRANT UPDATE ON `%s`.* TO '%s'@'%%'", a.schema, a.users[0])
			a.sql("REVOKE INSERT ON `%s`.* FROM '%s'@'%%'", a.schema, a.users[0])
		}, 0, 0},
		{"alt_current_drifted", nil, func(a *altRig) {
			a.rotate()
			a.sql("GRANT DELETE ON `%s`.* TO '%s'@'%%' WITH GRANT OPTION", a.schema, a.users[1])
		}, 0, 1},
		{"alt_clone_missing", nil, func(a *altRig) {
			a.sql("DROP USER '%s'@'%%'", a.users[1])
		}, 0, 0},
		{"alt_no_declared_grants", []altOption{withoutDeclaredGrants()}, func(a *altRig) {
			a.rotate()
			a.sql("GRANT UPDATE ON `%s`.* TO '%s'@'%%'", a.schema, a.users[0])
		}, 0, 0},
		{"alt_pending_after_setsecret", nil, func(a *altRig) {
			a.rotate()
			a.createSecret()
			a.setSecret() // AWSPREVIOUS's password is gone: not logged in with
		}, 3, 0},
		{"alt_master_mid_rotation", nil, func(a *altRig) {
			a.rotate()
			a.rig.secret, a.rig.user = a.master, a.users[0]+"_m"
			a.put("master-pending", "master-next-pw", "AWSPENDING")
			a.rig.secret, a.rig.user = "app/"+a.users[0], a.users[0]
		}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAltRig(t, "u"+tt.name[len("alt"):min(len(tt.name), 20)], tt.opts...)
			a.now = afterStuck
			tt.setup(a)
			before := a.failedLogins()
			for _, cmd := range []struct {
				name string
				code int
			}{{"status", tt.statusCode}, {"verify", tt.verifyCode}} {
				out, errOut, code := a.run(cmd.name, a.secret)
				if code != cmd.code {
					t.Errorf("%s: exit %d, want %d\n%s%s", cmd.name, code, cmd.code, out, errOut)
				}
				golden(t, cmd.name+"_"+tt.name, out, errOut, code)
			}
			if got := a.refusedSince(before, [3]int{}); got != [3]int{} {
				t.Errorf("refused logins of x, x_clone, master = %v, want none", got)
			}
		})
	}
}

// verify's error for grant drift of the current user matches
// ErrGrantDrift, and the JSON report carries each account's differences.
func TestAlternatingUsersVerifyJSON(t *testing.T) {
	a := newAltRig(t, "u_alt_json")
	a.rotate()
	a.sql("GRANT UPDATE ON `%s`.* TO '%s'@'%%'", a.schema, a.users[1])
	rep, err := a.operator().Verify(ctxT(t), a.secret, operator.VerifyOptions{})
	if !errors.Is(err, operator.ErrGrantDrift) || rep.OK {
		t.Fatalf("Verify = ok %v, %v; want ErrGrantDrift", rep.OK, err)
	}
	out, errOut, code := a.run("--output", "json", "verify", a.secret)
	golden(t, "verify_alt_json", out, errOut, code)
}

// verify flags privileges beyond schema and table level on the current
// user, which the rotation revokes: a global grant, a column grant and a
// routine grant each make it fail with ErrGrantDrift, naming them.
func TestAlternatingUsersVerifyEveryLevel(t *testing.T) {
	a := newAltRig(t, "u_alt_levels")
	a.rotate() // AWSCURRENT: x_clone
	a.sql("CREATE TABLE `%s`.items (id INT PRIMARY KEY)", a.schema)
	a.sql("CREATE PROCEDURE `%s`.tidy() SELECT 1", a.schema)
	cur := "'" + a.users[1] + "'@'%'"
	for _, tc := range []struct{ grant, revoke, want string }{
		{"GRANT CREATE USER ON *.* TO " + cur, "REVOKE CREATE USER ON *.* FROM " + cur, "extra CREATE USER ON *.*"},
		{"GRANT UPDATE (id) ON `" + a.schema + "`.items TO " + cur, "REVOKE UPDATE (id) ON `" + a.schema + "`.items FROM " + cur, "extra UPDATE (`id`) ON `" + a.schema + "`.`items`"},
		{"GRANT EXECUTE ON PROCEDURE `" + a.schema + "`.tidy TO " + cur, "REVOKE EXECUTE ON PROCEDURE `" + a.schema + "`.tidy FROM " + cur, "extra EXECUTE ON PROCEDURE `" + a.schema + "`.`tidy`"},
	} {
		a.sql("%s", tc.grant)
		rep, err := a.operator().Verify(ctxT(t), a.secret, operator.VerifyOptions{})
		if !errors.Is(err, operator.ErrGrantDrift) || rep.OK || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Verify = ok %v, %v; want ErrGrantDrift naming %q", tc.grant, rep.OK, err, tc.want)
		}
		a.sql("%s", tc.revoke)
	}
	if rep, err := a.operator().Verify(ctxT(t), a.secret, operator.VerifyOptions{}); err != nil || !rep.OK {
		t.Errorf("after the revokes: Verify = ok %v, %v", rep.OK, err)
	}
}
