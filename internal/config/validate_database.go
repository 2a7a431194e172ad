package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/example/secret-rotation/internal/grant"
)

// Limits of the databases of one environment. They keep every stack and
// the function's role inside AWS quotas; docs/deploy.md explains each.
const (
	// MaxDatabases per environment: each database with users adds one
	// inline policy (about 500 characters) to the function's role, and IAM
	// allows 10,240 characters of inline policies per role.
	MaxDatabases = 15
	// MaxUsersPerDatabase: each user adds three resources (secret, its
	// resource policy, rotation schedule) to its database's stack, which
	// CloudFormation limits to 500 resources.
	MaxUsersPerDatabase = 100
	// MaxRotatedExistingMasters: the rotation of an existing master secret
	// (rotateMaster) is a managed policy on the function's role, which IAM
	// limits to 10 by default (the base policy and the default database's
	// master rotation take two).
	MaxRotatedExistingMasters = 8
	// MaxMasterBindingsChars bounds MASTER_SECRET_BINDINGS, the rotation
	// function's JSON of existing databases' master ARNs to their user
	// secrets' ARN prefix: Lambda allows 4 KB for all of a function's
	// environment variables together
	// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
	// and the function's other variables take under 1 KB.
	MaxMasterBindingsChars = 3000
)

var (
	databaseNameRe   = regexp.MustCompile(`^[a-z][a-z0-9]{0,19}$`)
	roleArnRe        = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	secretArnRe      = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:secretsmanager:([a-z]{2}(-[a-z]+)+-[0-9]):[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]{1,512}-[A-Za-z0-9]{6}$`)
	keyArnRe         = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:kms:([a-z]{2}(-[a-z]+)+-[0-9]):[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}$`)
	securityGroupRe  = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	instanceIDRe     = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9]){0,62}$`)
	endpointLabelRe  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	reservedAccounts = []string{"rdsadmin", "rdsrepladmin", "rdsproxyadmin", "root", "mysql"}
)

// validateDatabases checks the "databases" entries of e; inherited
// settings were checked at the environment level.
func (e Environment) validateDatabases(prefix string) []error {
	var errs []error
	dbs := e.DatabaseList()
	if len(dbs) > MaxDatabases {
		errs = append(errs, &FieldError{Key: prefix + "." + ContextDatabases, Value: strconv.Itoa(len(dbs)) + " databases",
			Allowed: fmt.Sprintf("at most %d per environment (each database with users adds an inline policy to the function's role; IAM allows 10,240 characters of them)", MaxDatabases)})
	}
	rotatedExisting := 0
	masterOf := map[string]string{} // existing master secret ARN -> database
	for _, d := range dbs {
		p := prefix + "." + ContextDatabases + "." + d.Name
		errs = append(errs, d.validate(p, e)...)
		// One master, one database: the function binds a master to the
		// user-secret prefix of exactly one database (MASTER_SECRET_BINDINGS).
		if d.Existing != nil && d.Existing.MasterSecretArn != "" {
			if other, dup := masterOf[d.Existing.MasterSecretArn]; dup {
				errs = append(errs, &FieldError{Key: p + ".existing.masterSecretArn", Value: d.Existing.MasterSecretArn,
					Allowed: "a master secret no other database names (database " + other + " names it): declare both databases' users under one entry"})
			}
			masterOf[d.Existing.MasterSecretArn] = d.Name
		}
		if !d.IsDefault() && d.Existing != nil && d.Existing.RotateMaster {
			rotatedExisting++
		}
	}
	if n := masterBindingsChars(e); n > MaxMasterBindingsChars {
		errs = append(errs, &FieldError{Key: prefix + "." + ContextDatabases, Value: fmt.Sprintf("master secret bindings of about %d characters", n),
			Allowed: fmt.Sprintf("at most %d characters of existing databases' master secret ARNs and user secret prefixes (the rotation function's MASTER_SECRET_BINDINGS; Lambda allows 4 KB of environment variables): fewer existing databases with users, or shorter secret names", MaxMasterBindingsChars)})
	}
	if rotatedExisting > MaxRotatedExistingMasters {
		errs = append(errs, &FieldError{Key: prefix + "." + ContextDatabases, Value: strconv.Itoa(rotatedExisting) + " existing databases with rotateMaster",
			Allowed: fmt.Sprintf("at most %d (each is a managed policy on the function's role; IAM attaches 10 by default)", MaxRotatedExistingMasters)})
	}
	return errs
}

func (d Database) validate(prefix string, env Environment) []error {
	var errs []error
	bad := func(key string, value any, allowed string, args ...any) {
		errs = append(errs, fieldError(prefix+"."+key, value, allowed, args...))
	}
	if !databaseNameRe.MatchString(d.Name) {
		errs = append(errs, &FieldError{Key: prefix, Value: strconv.Quote(d.Name), Allowed: "database names of 1..20 lowercase letters and digits, starting with a letter (they name a stack and an RDS instance)"})
	}
	for _, k := range sortedKeys(d.set) {
		switch {
		case d.IsDefault() && slices.Contains(databaseSettingKeys(), k):
			bad(k, "(set)", "the default database's settings at the environment level (%s)", strings.TrimSuffix(prefix, "."+ContextDatabases+"."+d.Name)+"."+k)
		case d.Existing != nil && slices.Contains(creationOnlyKeys, k):
			bad(k, "(set)", "no %s for an existing database (the app does not create it)", k)
		}
	}
	if !d.IsDefault() {
		// The entry's own settings, checked like the environment's; only
		// keys the entry sets, so an inherited value is reported once
		// (and creation-only keys of an existing database, above).
		scoped := env.WithDatabase(d)
		scoped.validateDatabaseSettings(func(key string, value any, allowed string, args ...any) {
			if d.set[strings.SplitN(key, "[", 2)[0]] {
				bad(key, value, allowed, args...)
			}
		})
	}
	if d.Existing != nil {
		d.Existing.validate(bad, env)
	}
	if len(d.Users) > MaxUsersPerDatabase {
		bad("users", len(d.Users), "at most %d users per database (three resources each in the database's stack; CloudFormation allows 500)", MaxUsersPerDatabase)
	}
	seen := map[string]int{}
	for i, u := range d.Users {
		key := fmt.Sprintf("users[%d]", i)
		if j, dup := seen[strings.ToLower(u.Name)]; dup {
			bad(key+".name", u.Name, "a name no other user of this database has (users[%d] has it)", j)
		} else {
			seen[strings.ToLower(u.Name)] = i
		}
		u.validate(func(k string, v any, allowed string, args ...any) { bad(key+"."+k, v, allowed, args...) }, d.MasterUsername)
	}
	return errs
}

// validate checks one application user.
func (u User) validate(bad func(string, any, string, ...any), master string) {
	if err := grant.ValidateUser(u.Name); err != nil {
		bad("name", u.Name, "%s", reason(err))
	} else if strings.EqualFold(u.Name, master) {
		bad("name", u.Name, "a name other than the master user's (%s): application users must not be the master", master)
	} else if slices.Contains(reservedAccounts, strings.ToLower(u.Name)) {
		bad("name", u.Name, "a name other than the accounts RDS and MySQL reserve (%s)", strings.Join(reservedAccounts, ", "))
	}
	if len(u.Grants) == 0 {
		bad("grants", "[]", "at least one grant such as \"SELECT, INSERT ON orders.*\" (the user holds exactly its declared grants)")
	} else if _, err := grant.ParseAll(u.Grants); err != nil {
		bad("grants", strings.Join(u.Grants, "; "), "%s; privileges %s on schema.* or schema.table", reason(err), strings.Join(grant.Privileges, ", "))
	}
	if u.Host != "" {
		if err := grant.ValidateHost(u.Host); err != nil {
			bad("host", u.Host, "%s (or empty for %%, any host)", reason(err))
		}
	}
	if u.DBName != "" {
		if err := grant.ValidateIdent(u.DBName); err != nil {
			bad("dbname", u.DBName, "a schema name: %v", err)
		}
	}
	for i, r := range u.Readers {
		switch {
		case !roleArnRe.MatchString(r):
			bad(fmt.Sprintf("readers[%d]", i), r, "an IAM role ARN, arn:aws:iam::123456789012:role/NAME (no wildcards; the role must exist at deploy time)")
		case slices.Index(u.Readers, r) != i:
			bad(fmt.Sprintf("readers[%d]", i), r, "each role once")
		}
	}
}

// reason returns a grant error's reason without the quoted input (the key
// and value are already in the FieldError).
func reason(err error) string {
	var ge *grant.Error
	if errors.As(err, &ge) {
		return ge.Reason
	}
	return err.Error()
}

// validate checks the description of an existing database.
func (x ExistingDatabase) validate(bad func(string, any, string, ...any), env Environment) {
	if !instanceIDRe.MatchString(x.InstanceIdentifier) {
		bad("existing.instanceIdentifier", x.InstanceIdentifier, "an RDS DB instance identifier: 1..63 letters, digits and single hyphens, starting with a letter")
	}
	if !validHostName(x.Endpoint) {
		bad("existing.endpoint", x.Endpoint, "the instance's endpoint address, e.g. mydb.abcdefghijkl.eu-west-1.rds.amazonaws.com")
	}
	if x.Port != 0 && (x.Port < 1150 || x.Port > 65535) {
		bad("existing.port", x.Port, "1150..65535 (the RDS port range), or absent for 3306")
	}
	if !securityGroupRe.MatchString(x.SecurityGroupID) {
		bad("existing.securityGroupId", x.SecurityGroupID, "a security group id of the instance, sg- and 8 or 17 hex digits")
	}
	if x.Engine != "" && x.Engine != "mysql" && x.Engine != "mariadb" {
		bad("existing.engine", x.Engine, "mysql or mariadb")
	}
	if m := secretArnRe.FindStringSubmatch(x.MasterSecretArn); m == nil {
		bad("existing.masterSecretArn", x.MasterSecretArn, "the complete ARN of the master secret, ending in its six-character suffix (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)")
	} else if env.Region != "" && m[2] != env.Region {
		bad("existing.masterSecretArn", x.MasterSecretArn, "a secret of region %s (rotation functions and secrets are regional)", env.Region)
	}
	if x.MasterKeyArn != "" {
		if m := keyArnRe.FindStringSubmatch(x.MasterKeyArn); m == nil {
			bad("existing.masterKeyArn", x.MasterKeyArn, "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias, or empty for aws/secretsmanager")
		} else if env.Region != "" && m[2] != env.Region {
			bad("existing.masterKeyArn", x.MasterKeyArn, "a key of region %s", env.Region)
		}
	}
}

func validHostName(h string) bool {
	if len(h) == 0 || len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if !endpointLabelRe.MatchString(label) {
			return false
		}
	}
	return true
}

// masterBindingsChars is an upper bound of the length of the function's
// MASTER_SECRET_BINDINGS for e: per existing database with users, its
// master ARN and the ARN prefix of its user secrets (the longest
// partition and a region name of 20 characters assumed), JSON-quoted.
func masterBindingsChars(e Environment) int {
	const arnHead = len("arn:aws-us-gov:secretsmanager:") + 20 + len(":123456789012:secret:")
	n := 2 // {}
	for _, d := range e.DatabaseList() {
		if d.Existing == nil || len(d.Users) == 0 {
			continue
		}
		n += len(d.Existing.MasterSecretArn) + arnHead + len(e.SecretNamePrefix()+d.Name+"/") + len(`"":"",`)
	}
	return n
}
