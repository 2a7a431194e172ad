package compliance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
)

// ValidationReportFile is the file aws-cdk-lib writes into the cloud
// assembly directory when synthesis fails its validation (policy validation
// plugins, its built-in CloudFormation rules and, with the feature flag
// @aws-cdk/core:annotationsInValidationReport, error annotations such as
// cdk-nag's).
const ValidationReportFile = "validation-report.json"

// Synth synthesizes app and checks it: it returns the assembly and nil, or
// an error naming every unsuppressed error finding (rule and construct path)
// whether aws-cdk-lib rejected the synthesis itself (it does so for error
// annotations when @aws-cdk/core:annotationsInValidationReport is on, and
// for failed validation rules) or it succeeded and [Check] found errors.
// Other synthesis failures (a failed bundling) are returned as errors too.
func Synth(app awscdk.App) (assembly cxapi.CloudAssembly, err error) {
	outdir := ""
	if app.Outdir() != nil {
		outdir = *app.Outdir()
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = synthPanic(r, outdir)
			}
		}()
		assembly = app.Synth(nil)
	}()
	if err != nil {
		return nil, err
	}
	return assembly, Check(assembly)
}

// synthPanic turns a panic from App.Synth into an error; for a failed
// validation it lists the violations from the report file.
func synthPanic(r any, outdir string) error {
	msg := fmt.Sprint(r)
	if !strings.Contains(msg, "Validation failed") || outdir == "" {
		return fmt.Errorf("synth: %s", msg)
	}
	findings, err := ReadValidationReport(filepath.Join(outdir, ValidationReportFile))
	if err != nil {
		return fmt.Errorf("synth: %s (and its report: %w)", msg, err)
	}
	var lines []string
	for _, f := range findings {
		if f.Level == LevelError {
			lines = append(lines, "  "+f.String())
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("synth: %s", msg)
	}
	return fmt.Errorf("%w (%d) in %s: fix the resource, or add a reviewed compliance.Suppress on it:\n%s",
		ErrFindings, len(lines), filepath.Join(outdir, ValidationReportFile), strings.Join(lines, "\n"))
}

// ValidationReport is the part of aws-cdk-lib's validation-report.json
// (written to the output directory on every synth) that this project reads.
type ValidationReport struct {
	PluginReports []struct {
		PluginName string `json:"pluginName"`
		Violations []struct {
			RuleName            string `json:"ruleName"`
			Description         string `json:"description"`
			Severity            string `json:"severity"`
			ViolatingConstructs []struct {
				ConstructPath string `json:"constructPath"`
			} `json:"violatingConstructs"`
		} `json:"violations"`
	} `json:"pluginReports"`
}

// ReadValidationReport returns the violations of an aws-cdk-lib validation
// report as findings: one per violating construct, with the cdk-nag rule id
// parsed from annotation violations and the plugin's rule name otherwise.
func ReadValidationReport(path string) ([]Finding, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no validation report at %s: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read validation report: %w", err)
	}
	var rep ValidationReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("parse validation report %s: %w", path, err)
	}
	var out []Finding
	for _, p := range rep.PluginReports {
		for _, v := range p.Violations {
			level := LevelWarning
			if strings.EqualFold(v.Severity, "error") || strings.EqualFold(v.Severity, "fatal") {
				level = LevelError
			}
			msg := strings.TrimSpace(v.Description)
			rule, finding := v.RuleName, ""
			if sm := ruleRe.FindStringSubmatch(msg); sm != nil {
				rule, finding = sm[1], sm[2]
			} else if !strings.HasPrefix(rule, "Annotation::") {
				rule = p.PluginName + "::" + rule
			}
			for _, c := range v.ViolatingConstructs {
				out = append(out, Finding{Level: level, Path: "/" + strings.TrimPrefix(c.ConstructPath, "/"), Rule: rule, FindingID: finding, Message: msg})
			}
		}
	}
	return out, nil
}
