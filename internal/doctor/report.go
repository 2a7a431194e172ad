package doctor

import (
	"fmt"
	"strings"
)

// Render is the human-readable report of one diagnosis, as published:
// secret, environment, cause in one line, evidence, action taken and the
// next command. It holds what Secrets Manager, the network and the
// database said, never a secret value (the logins' errors come from the
// engine's dialer, which never includes a password).
func Render(env string, g *Diagnosis) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Secret:      %s\n", g.Secret)
	fmt.Fprintf(&b, "Environment: %s\n", orNone(env))
	fmt.Fprintf(&b, "Cause:       %s: %s\n", g.Cause, g.Why)
	fmt.Fprintf(&b, "Action:      %s\n", g.Action)
	next := g.Next
	if next == "" {
		next = "nothing to do"
	}
	fmt.Fprintf(&b, "Next:        %s\n", next)
	b.WriteString("Evidence:\n")
	for _, e := range g.Evidence {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	return b.String()
}

// maxSubject is SNS's limit on a subject (100 characters, ASCII).
const maxSubject = 100

// Subject is the one-line SNS subject for the reports of one invocation.
func Subject(env string, gs []*Diagnosis) string {
	var s string
	switch attention := needAttention(gs); {
	case len(gs) == 1:
		s = fmt.Sprintf("[%s] rotation doctor: %s: %s", orNone(env), gs[0].Secret, gs[0].Cause)
	case attention == 0:
		s = fmt.Sprintf("[%s] rotation doctor: %d secrets healthy", orNone(env), len(gs))
	default:
		s = fmt.Sprintf("[%s] rotation doctor: %d of %d secrets need attention", orNone(env), attention, len(gs))
	}
	return asciiSubject(s)
}

func needAttention(gs []*Diagnosis) int {
	n := 0
	for _, g := range gs {
		if g.Cause != CauseHealthy {
			n++
		}
	}
	return n
}

// asciiSubject keeps printable ASCII (SNS rejects control characters in
// a subject) and cuts at maxSubject.
func asciiSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) > maxSubject {
		out = out[:maxSubject-3] + "..."
	}
	return out
}
