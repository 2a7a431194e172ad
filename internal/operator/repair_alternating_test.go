package operator_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/operator"
)

// The stuck states of an alternating-users rotation, built by hand step by
// step. AWSPENDING names the other user, so AWSCURRENT logging in says
// nothing about whether setSecret ran; repair finds out from AWSPREVIOUS
// (same user as the pending one, old password) and then AWSPENDING, and
// finishes the rotation when setSecret ran instead of orphaning the
// password it set. The server counts the refused logins per account:
// only passwords that were already dead are refused. After every repair
// a real rotation through the alternating-users strategy works and
// verify finds the declared grants.
func TestRepairAlternatingUsers(t *testing.T) {
	tests := []struct {
		name  string
		setup func(a *altRig)
		// wantCurrent is the value index AWSCURRENT must end on.
		wantCurrent int
		// wantRefused are the refused logins of x, x_clone, master.
		wantRefused [3]int
		// lost: x_clone's password is in no version of the secret (the rig
		// made it, or a hand changed it), so the rotation cannot prove the
		// secret owns it and refuses it; the remedy the refusal names,
		// dropping the unused account, is applied before rotating.
		lost bool
	}{
		{"alt_repair_setsecret_ran", func(a *altRig) { a.rotate(); a.createSecret(); a.setSecret() }, 2, [3]int{1, 0, 0}, false},
		{"alt_repair_setsecret_not_run", func(a *altRig) { a.rotate(); a.createSecret() }, 1, [3]int{}, false},
		{"alt_repair_first_finish_lost", func(a *altRig) { a.createSecret(); a.setSecret() }, 1, [3]int{}, false},
		{"alt_repair_first_not_applied", func(a *altRig) { a.createSecret() }, 0, [3]int{0, 1, 0}, true},
		{"alt_repair_current_refused", func(a *altRig) {
			a.rotate()
			a.sql("ALTER USER '%s'@'%%' IDENTIFIED BY 'changed-by-hand'", a.users[1])
		}, 0, [3]int{0, 1, 0}, true},
		{"alt_repair_pending_no_value", func(a *altRig) {
			a.rotate()
			a.enableRotation(brokenFunction)
			if _, err := a.client.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String(a.secret), ClientRequestToken: aws.String(a.token("no-value"))}); err != nil {
				t.Fatal(err)
			}
		}, 1, [3]int{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAltRig(t, "u"+tt.name[len("alt_repair"):min(len(tt.name), 26)])
			a.now = afterStuck
			tt.setup(a)
			start := a.failedLogins()
			a.repairWithDryRun(t, tt.name, 0)
			// The repair makes the dry run's logins again.
			want := [3]int{2 * tt.wantRefused[0], 2 * tt.wantRefused[1], 2 * tt.wantRefused[2]}
			if got := a.refusedSince(start, want); got != want {
				t.Errorf("refused logins of x, x_clone, master by the dry run and the repair = %v, want %v", got, want)
			}
			st := a.stages()
			if st["AWSCURRENT"] != a.version(tt.wantCurrent) {
				t.Fatalf("AWSCURRENT on %s, want value %d (%s): %v", st["AWSCURRENT"], tt.wantCurrent, a.version(tt.wantCurrent), st)
			}
			if p, ok := st["AWSPENDING"]; ok && p != st["AWSCURRENT"] {
				t.Fatalf("AWSPENDING still on another version: %v", st)
			}

			// The point of repair: the strategy rotates again, and both
			// users end up with exactly the declared grants.
			a.enableRotation(goodFunction)
			if tt.lost {
				a.sql("DROP USER '%s'@'%%'", a.users[1])
			}
			for range 2 {
				if rep, err := a.operator().Rotate(ctxT(t), a.secret, operator.RotateOptions{Wait: true}); err != nil || !rep.Finished {
					t.Fatalf("rotation after repair: %v", err)
				}
			}
			out, errOut, code := a.run("verify", a.secret)
			if code != 0 || !strings.Contains(out, "AWSCURRENT   as declared") || !strings.Contains(out, "AWSPREVIOUS  as declared") {
				t.Fatalf("verify after repair and rotation: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
