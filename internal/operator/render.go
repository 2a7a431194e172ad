package operator

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/example/secret-rotation/internal/secret"
)

// The text renderers print one report each. Every line is stable for a
// given report, so golden files can pin the format.

func renderStatus(w io.Writer, r *StatusReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Secret:\t%s\n", r.Name)
	fmt.Fprintf(tw, "ARN:\t%s\n", r.ARN)
	enabled := "disabled"
	if r.RotationEnabled {
		enabled = "enabled"
	}
	fmt.Fprintf(tw, "Rotation:\t%s\n", enabled)
	fmt.Fprintf(tw, "Function:\t%s\n", orNone(r.Function))
	fmt.Fprintf(tw, "Rules:\t%s\n", orNone(r.Rules))
	fmt.Fprintf(tw, "Last rotated:\t%s\n", timeOrNever(r.LastRotated))
	fmt.Fprintf(tw, "Next rotation:\t%s\n", timeOrNever(r.NextRotation))
	tw.Flush()
	fmt.Fprintln(w, "Versions:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  VERSION\tSTAGES\tCREATED")
	for _, v := range r.Versions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.ID, strings.Join(v.Stages, ","), formatTime(v.Created))
	}
	tw.Flush()
	fmt.Fprintf(w, "Verdict: %s: %s\n", r.Verdict, r.Reason)
	if r.Users != nil {
		fmt.Fprintln(w, "Users (alternating users):")
		for _, l := range r.Users.Logins {
			fmt.Fprintf(w, "  %s\n", loginLine(l))
		}
		renderGrants(w, r.Users.Grants)
	}
}

func renderPhase(w io.Writer, phase string) {
	fmt.Fprintf(w, "  %-12s %s\n", phase, PhaseText(phase))
}

func renderRotateEnd(w io.Writer, r *RotateReport) {
	switch {
	case r.Finished && r.Verified != nil:
		fmt.Fprintf(w, "Verified: %s logs in with the new AWSCURRENT\n", r.Verified.Username)
	case len(r.Phases) == 1 && r.Error == "":
		fmt.Fprintln(w, "Not waiting; follow it with `rotatectl status`.")
	}
}

func renderRepair(w io.Writer, r *RepairReport) {
	fmt.Fprintf(w, "Secret: %s\n", r.Name)
	fmt.Fprintln(w, "Logins:")
	for _, l := range r.Logins {
		fmt.Fprintf(w, "  %s\n", loginLine(l))
	}
	if len(r.Actions) > 0 {
		if r.Applied {
			fmt.Fprintln(w, "Changed:")
		} else {
			fmt.Fprintln(w, "Plan:")
		}
		for i, a := range r.Actions {
			fmt.Fprintf(w, "  %d. %s\n", i+1, a)
		}
	}
	if r.Result != "" {
		fmt.Fprintf(w, "Result: %s\n", r.Result)
	}
}

func renderVerify(w io.Writer, r *VerifyReport) {
	fmt.Fprintf(w, "Secret: %s\n", r.Name)
	fmt.Fprintf(w, "  %s\n", loginLine(r.Current))
	if r.Previous != nil {
		fmt.Fprintf(w, "  %s\n", loginLine(*r.Previous))
	}
	if r.CurrentAgain != nil {
		fmt.Fprintf(w, "  %s\n", loginLineNote(*r.CurrentAgain, "again"))
	}
	fmt.Fprintf(w, "Mode: %s: %s\n", r.Mode, r.Explanation)
	renderGrants(w, r.Grants)
}

// renderGrants prints the grants comparison of an alternating-users
// secret: the reference, then one line per account.
func renderGrants(w io.Writer, g *GrantsReport) {
	if g == nil {
		return
	}
	fmt.Fprintf(w, "Grants (read as the master user of %s):\n", g.Master)
	if len(g.Declared) > 0 {
		fmt.Fprintf(w, "  declared: %s\n", strings.Join(g.Declared, "; "))
	} else {
		fmt.Fprintln(w, "  declared: none (each rotation gives the other user the current user's grants)")
	}
	if g.Error != "" {
		fmt.Fprintf(w, "  not compared: %s\n", g.Error)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range g.Accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Account, stageOrNone(a.Stage), accountVerdict(g, a))
	}
	tw.Flush()
}

// accountVerdict says how one account compares with the reference.
func accountVerdict(g *GrantsReport, a AccountGrants) string {
	switch {
	case !a.Exists:
		return "does not exist (the next rotation of this user creates it)"
	case a.Matches() && g.Reference == ReferenceCurrentUser && a.Stage == secret.StageCurrent:
		return "holds " + orNone(strings.Join(a.Held, "; "))
	case a.Matches() && g.Reference == ReferenceCurrentUser:
		return "same grants as the current user"
	case a.Matches():
		return "as declared"
	}
	return describeDrift(a)
}

func loginLine(l Login) string { return loginLineNote(l, "") }

// loginLineNote is loginLine with a note before the result.
func loginLineNote(l Login, note string) string {
	s := fmt.Sprintf("%-11s version %s", l.Stage, l.Version)
	if l.Username != "" {
		s += " user " + l.Username
	}
	if note != "" {
		s += ", " + note
	}
	s += ": " + l.Result
	if l.Detail != "" {
		s += " (" + l.Detail + ")"
	}
	return s
}

func stageOrNone(s string) string {
	if s == "" {
		return NoStage
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func timeOrNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return formatTime(*t)
}
