package operator

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/example/secret-rotation/internal/awsclient"
	"github.com/example/secret-rotation/internal/engine/mysql"
)

// Exit codes of the rotatectl command line.
const (
	ExitOK      = 0 // the command did what it was asked
	ExitFailed  = 1 // the operation failed (API error, rotation failed, login refused, cannot repair)
	ExitUsage   = 2 // bad flags or arguments
	ExitStuck   = 3 // status: the verdict is "stuck"
	outputText  = "text"
	outputJSON  = "json"
	programName = "rotatectl"
)

// DefaultCommandTimeout is the time limit of status, verify and repair
// (--timeout).
const DefaultCommandTimeout = 2 * time.Minute

// ErrTimeout is matched by errors of a command that reached its time
// limit (--timeout).
var ErrTimeout = errors.New("not finished")

// Globals are the flags every command accepts.
type Globals struct {
	Output         string
	Profile        string
	Region         string
	EndpointURL    string
	CABundle       string
	ConnectTimeout time.Duration
}

// CLI is the rotatectl command line. The zero value with Stdout and
// Stderr set uses the standard AWS configuration; tests replace Setup.
type CLI struct {
	Stdout, Stderr io.Writer
	// Setup builds the Operator from the global flags (nil: [DefaultSetup]).
	Setup func(ctx context.Context, g Globals) (*Operator, error)
}

// DefaultSetup builds the Secrets Manager client from the standard AWS
// configuration (environment, shared config and credentials files, IMDS)
// with --profile, --region and --endpoint-url applied, see
// [awsclient.SecretsManager]. Database logins trust the system roots plus
// --ca-bundle.
func DefaultSetup(ctx context.Context, g Globals) (*Operator, error) {
	sm, err := awsclient.SecretsManager(ctx, awsclient.Flags{Profile: g.Profile, Region: g.Region, EndpointURL: g.EndpointURL})
	if err != nil {
		return nil, err
	}
	dopts := []mysql.Option{mysql.WithCABundleFile(g.CABundle)}
	if g.ConnectTimeout > 0 {
		dopts = append(dopts, mysql.WithConnectTimeout(g.ConnectTimeout))
	}
	dialer, err := mysql.NewDialer(dopts...)
	if err != nil {
		return nil, fmt.Errorf("database TLS: %w", err)
	}
	return New(sm, DBChecker{Dialer: dialer}), nil
}

const usageText = `Usage: rotatectl [global flags] COMMAND [flags] SECRET

Operate the rotation of a MySQL/MariaDB secret in AWS Secrets Manager.
SECRET is the secret's name or ARN.

Commands:
  status   rotation settings, every version with its labels, and a verdict
           (healthy / rotation in progress / stuck, and why)
  rotate   start a rotation; --wait follows it and verifies the new password
  repair   un-stick a rotation (explains first; --dry-run changes nothing)
  verify   log in with AWSCURRENT and report whether AWSPREVIOUS still works

Global flags (accepted before or after COMMAND):
  --output text|json     output format (default text)
  --profile NAME         shared config profile (default: AWS_PROFILE)
  --region NAME          AWS region (default: AWS_REGION / profile)
  --endpoint-url URL     Secrets Manager endpoint (default:
                         AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL)
  --ca-bundle PATH       PEM file trusted for database TLS, e.g. the RDS bundle
  --connect-timeout D    database connect timeout (default 5s)

Every command ends within its --timeout (status, verify, repair: default
2m; rotate: default 5m, plus at most 10s to report), whatever Secrets
Manager or the database do.

Exit codes: 0 success; 1 the operation failed; 2 usage error;
3 (status) the rotation is stuck.
Run "rotatectl COMMAND -h" for a command's flags.
`

func addGlobals(fs *flag.FlagSet, g *Globals) {
	fs.StringVar(&g.Output, "output", g.Output, "output format: text or json")
	fs.StringVar(&g.Profile, "profile", g.Profile, "shared config profile")
	fs.StringVar(&g.Region, "region", g.Region, "AWS region")
	fs.StringVar(&g.EndpointURL, "endpoint-url", g.EndpointURL, "Secrets Manager endpoint URL")
	fs.StringVar(&g.CABundle, "ca-bundle", g.CABundle, "PEM file trusted for database TLS")
	fs.DurationVar(&g.ConnectTimeout, "connect-timeout", g.ConnectTimeout, "database connect timeout")
}

// Run executes one command line (without the program name) and returns
// the exit code.
func (c *CLI) Run(ctx context.Context, args []string) int {
	g := Globals{Output: outputText}
	top := flag.NewFlagSet(programName, flag.ContinueOnError)
	top.SetOutput(io.Discard)
	addGlobals(top, &g)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.Stdout, usageText)
			return ExitOK
		}
		return c.usage(err.Error())
	}
	rest := top.Args()
	if len(rest) == 0 {
		return c.usage("missing COMMAND")
	}
	cmd, rest := rest[0], rest[1:]
	switch cmd {
	case "help":
		fmt.Fprint(c.Stdout, usageText)
		return ExitOK
	case "status", "rotate", "repair", "verify":
	default:
		return c.usage(fmt.Sprintf("unknown command %q", cmd))
	}

	fs := flag.NewFlagSet(programName+" "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	addGlobals(fs, &g)
	var ropts RotateOptions
	var vopts VerifyOptions
	var dryRun bool
	stuckAfter := DefaultStuckAfter
	timeout := DefaultCommandTimeout
	switch cmd {
	case "status":
		fs.DurationVar(&stuckAfter, "stuck-after", DefaultStuckAfter, "age of an unfinished rotation from which it counts as stuck")
	case "rotate":
		fs.BoolVar(&ropts.Wait, "wait", false, "follow the rotation until AWSCURRENT moved, then verify a login")
		fs.StringVar(&ropts.Function, "function", "", "rotation function ARN to set (default: keep the secret's)")
	case "repair":
		fs.BoolVar(&dryRun, "dry-run", false, "explain what would change and change nothing")
		fs.DurationVar(&stuckAfter, "stuck-after", DefaultStuckAfter, "age from which an unfinished rotation counts as stuck; a younger one is not repaired")
	case "verify":
		fs.BoolVar(&vopts.CheckPrevious, "check-previous", false, "also log in with AWSPREVIOUS to prove its password is refused: costs one failed login, which an account-lockout policy counts")
	}
	if cmd == "rotate" {
		fs.DurationVar(&ropts.Timeout, "timeout", DefaultRotateTimeout, fmt.Sprintf("time limit of the command, --wait included (plus at most %s to report)", TimeoutGrace))
	} else {
		fs.DurationVar(&timeout, "timeout", DefaultCommandTimeout, "time limit of the command")
	}
	printUsage := func(w io.Writer) {
		fs.SetOutput(w)
		fmt.Fprintf(w, "Usage: rotatectl %s [flags] SECRET\n\nFlags:\n", cmd)
		fs.PrintDefaults()
	}
	// The flag package prints only the problem (to stderr); the usage is
	// printed here once, on stdout when it was asked for with -h.
	fs.Usage = func() {}
	pos, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(c.Stdout)
		return ExitOK
	}
	if err != nil {
		printUsage(c.Stderr)
		return ExitUsage
	}
	if len(pos) != 1 {
		return c.usage(fmt.Sprintf("%s needs exactly one SECRET, got %d arguments", cmd, len(pos)))
	}
	if g.Output != outputText && g.Output != outputJSON {
		return c.usage(fmt.Sprintf("--output must be text or json, not %q", g.Output))
	}
	// The time limit: rotate bounds itself (the wait, then TimeoutGrace to
	// report); the other commands end at their deadline.
	switch {
	case cmd == "rotate" && ropts.Timeout > 0:
		timeout = ropts.Timeout + TimeoutGrace
	case cmd == "rotate":
		timeout = DefaultRotateTimeout + TimeoutGrace
	case timeout <= 0:
		timeout = DefaultCommandTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	limited := func(err error) error {
		if err == nil || !errors.Is(cctx.Err(), context.DeadlineExceeded) || errors.Is(err, ErrTimeout) || cmd == "rotate" {
			return err
		}
		return fmt.Errorf("%s %s: %w within %s (--timeout): %w", cmd, pos[0], ErrTimeout, timeout, err)
	}
	setup := c.Setup
	if setup == nil {
		setup = DefaultSetup
	}
	op, err := setup(cctx, g)
	if err != nil {
		return c.fail(g, cmd, nil, limited(err))
	}
	ctx = cctx
	secret := pos[0]
	switch cmd {
	case "status":
		op.stuckAfter = stuckAfter
		r, err := op.StatusWithUsers(ctx, secret)
		if err != nil {
			return c.fail(g, cmd, nil, limited(err))
		}
		c.emit(g, cmd, r, nil, func(w io.Writer) { renderStatus(w, r) })
		if r.Verdict == VerdictStuck {
			return ExitStuck
		}
		return ExitOK
	case "rotate":
		if g.Output == outputText {
			ropts.Progress = func(version, phase string) {
				if phase == PhaseStarted {
					fmt.Fprintf(c.Stdout, "Rotating %s: new version %s\n", secret, version)
				}
				renderPhase(c.Stdout, phase)
			}
		}
		r, err := op.Rotate(ctx, secret, ropts)
		if r == nil {
			return c.fail(g, cmd, nil, err)
		}
		c.emit(g, cmd, r, err, func(w io.Writer) { renderRotateEnd(w, r) })
		return exitFor(err)
	case "repair":
		op.stuckAfter = stuckAfter
		r, err := op.Repair(ctx, secret, dryRun)
		err = limited(err)
		if r == nil {
			return c.fail(g, cmd, nil, err)
		}
		c.emit(g, cmd, r, err, func(w io.Writer) { renderRepair(w, r) })
		return exitFor(err)
	default: // verify
		r, err := op.Verify(ctx, secret, vopts)
		err = limited(err)
		if r == nil {
			return c.fail(g, cmd, nil, err)
		}
		c.emit(g, cmd, r, err, func(w io.Writer) { renderVerify(w, r) })
		return exitFor(err)
	}
}

// parseInterleaved lets flags follow the positional argument
// ("rotate SECRET --wait"), as most CLIs do.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if len(args) > 0 && args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func exitFor(err error) int {
	if err != nil {
		return ExitFailed
	}
	return ExitOK
}

func (c *CLI) usage(msg string) int {
	fmt.Fprintf(c.Stderr, "%s: %s\nRun '%s -h' for usage.\n", programName, msg, programName)
	return ExitUsage
}

// envelope is the --output json document: one per command run.
type envelope struct {
	Command string `json:"command"`
	Result  any    `json:"result,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (c *CLI) emit(g Globals, cmd string, result any, err error, text func(io.Writer)) {
	if g.Output == outputJSON {
		e := envelope{Command: cmd, Result: result}
		if err != nil {
			e.Error = err.Error()
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(e) // a failed write to stdout has nowhere to be reported
		return
	}
	text(c.Stdout)
	if err != nil {
		fmt.Fprintf(c.Stderr, "%s: %s\n", programName, strings.TrimSpace(err.Error()))
	}
}

func (c *CLI) fail(g Globals, cmd string, result any, err error) int {
	if g.Output == outputJSON {
		c.emit(g, cmd, result, err, nil)
	} else {
		fmt.Fprintf(c.Stderr, "%s: %v\n", programName, err)
	}
	return ExitFailed
}
