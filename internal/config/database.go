package config

// DefaultDatabaseName names the database every environment has: the one
// configured by the environment-level keys (instanceClass, databasePort,
// ...), deployed in the stack <prefix>-<env>-Database under the logical ids
// it had before an environment could hold several databases. An entry
// "default" under "databases" may add users to it or make it an existing
// database, but not change its settings (they stay at the environment
// level, one place for one value).
const DefaultDatabaseName = "default"

// ContextDatabases is the environment key holding the databases by name.
const ContextDatabases = "databases"

// DatabaseSettings are the settings of one database. In cdk.json they sit
// directly in the environment block (for the default database, and as the
// defaults of every other database) and in a "databases" entry (for that
// database only).
type DatabaseSettings struct {
	// InstanceClass is the RDS instance class, e.g. "db.t4g.micro".
	InstanceClass string `json:"instanceClass"`
	// EngineVersion is the full MySQL engine version, e.g. "8.4.10".
	EngineVersion string `json:"engineVersion"`
	// AllocatedStorageGiB is the initial gp3 storage.
	AllocatedStorageGiB int `json:"allocatedStorageGiB"`
	// MultiAz runs a standby in a second zone.
	MultiAz bool `json:"multiAz"`
	// BackupRetentionDays keeps automated backups (0 disables them).
	BackupRetentionDays int `json:"backupRetentionDays"`
	// RemovalPolicy applies to the database (and its secrets, keys and log
	// groups) when the stack is deleted: destroy, snapshot or retain.
	RemovalPolicy string `json:"removalPolicy"`
	// DeletionProtection blocks deleting the DB instance.
	DeletionProtection bool `json:"deletionProtection"`
	// DatabasePort is the MySQL listener port.
	DatabasePort int `json:"databasePort"`
	// MasterUsername is the RDS master user stored in the secret.
	MasterUsername string `json:"masterUsername"`
	// CACertificateIdentifier is the RDS CA that signs the DB instance's
	// server certificate, one of rdsca.Identifiers().
	CACertificateIdentifier string `json:"caCertificateIdentifier"`

	// RotationDays rotates the secrets every N days (1..1000); ignored when RotationSchedule is set.
	RotationDays int `json:"rotationDays"`
	// RotationSchedule is a rate() or cron() expression replacing RotationDays.
	RotationSchedule string `json:"rotationSchedule"`
	// RotationWindowHours is the rotation window length (0 = Secrets Manager default).
	RotationWindowHours int `json:"rotationWindowHours"`
}

// Database is one entry of an environment's "databases": a database the
// stacks create (Existing nil) or one that exists already, and the
// application users whose secrets the rotation function rotates with the
// alternating-users strategy.
type Database struct {
	// Name is the entry's key (set by Load, not a JSON key).
	Name string `json:"-"`
	// DatabaseSettings are the environment's, overlaid with the entry's keys.
	DatabaseSettings
	// Users are the application users, each with its own secret.
	Users []User `json:"users"`
	// Existing names a database this app does not create; nil for one it creates.
	Existing *ExistingDatabase `json:"existing"`

	// set holds the keys given explicitly in the entry; validation reports
	// inherited values only once, at the environment level.
	set map[string]bool
}

// User is an application user of a database: its own secret (username
// alternating between Name and Name_clone), rotated by the function
// logging in as the database's master user.
type User struct {
	// Name is the account name (grant.ValidateUser: at most 26 characters,
	// so Name_clone fits MySQL's 32).
	Name string `json:"name"`
	// Grants are the privileges the user holds exactly, in the grammar of
	// package grant: "SELECT, INSERT ON orders.*" or "SELECT ON orders.items".
	Grants []string `json:"grants"`
	// Host is the account's host part; default "%" (any host).
	Host string `json:"host"`
	// DBName is the schema clients connect to ("dbname" of the secret);
	// default "" (no default schema). It must exist when the secret rotates:
	// the function logs in with it to test the new credentials.
	DBName string `json:"dbname"`
	// Readers are IAM role ARNs that may read the user's secret (and decrypt
	// it through Secrets Manager); nobody else is granted access.
	Readers []string `json:"readers"`
}

// UserHost returns Host, or "%" when it is empty.
func (u User) UserHost() string {
	if u.Host == "" {
		return "%"
	}
	return u.Host
}

// ExistingDatabase is an RDS for MySQL or MariaDB instance created outside
// this app, which the stacks only attach to: the security-group rule from
// the rotation function, the users' secrets and schedules, and (only with
// RotateMaster) the rotation of its master secret.
type ExistingDatabase struct {
	// InstanceIdentifier is the DB instance identifier.
	InstanceIdentifier string `json:"instanceIdentifier"`
	// Endpoint is the instance's endpoint address (host name).
	Endpoint string `json:"endpoint"`
	// Port is the instance's port; default 3306.
	Port int `json:"port"`
	// SecurityGroupID is a security group of the instance; the function is
	// admitted to Port through it.
	SecurityGroupID string `json:"securityGroupId"`
	// Engine is "mysql" (default) or "mariadb".
	Engine string `json:"engine"`
	// MasterSecretArn is the complete ARN of the master user's secret
	// (with its six-character suffix). The function reads it to manage the
	// users; it needs at least "username" and "password".
	MasterSecretArn string `json:"masterSecretArn"`
	// MasterKeyArn is the ARN of the master secret's customer-managed KMS
	// key; empty when it uses aws/secretsmanager.
	MasterKeyArn string `json:"masterKeyArn"`
	// RotateMaster attaches the function's rotation to the master secret
	// too. Default false: the master secret is left as it is (it may be
	// rotated by something else, e.g. RDS-managed master passwords, whose
	// rotation Secrets Manager refuses to replace).
	RotateMaster bool `json:"rotateMaster"`
}

// ExistingPort returns Port or 3306.
func (x ExistingDatabase) ExistingPort() int {
	if x.Port == 0 {
		return 3306
	}
	return x.Port
}

// ExistingEngine returns Engine or "mysql".
func (x ExistingDatabase) ExistingEngine() string {
	if x.Engine == "" {
		return "mysql"
	}
	return x.Engine
}

// IsDefault reports whether d is the environment's default database.
func (d Database) IsDefault() bool { return d.Name == DefaultDatabaseName }

// Port is the port clients connect to.
func (d Database) Port() int {
	if d.Existing != nil {
		return d.Existing.ExistingPort()
	}
	return d.DatabasePort
}

// Engine is the secret's "engine": "mysql" for databases this app creates.
func (d Database) Engine() string {
	if d.Existing != nil {
		return d.Existing.ExistingEngine()
	}
	return "mysql"
}

// RotatesMaster reports whether the function rotates the master secret:
// always for a database this app creates, on request for an existing one.
func (d Database) RotatesMaster() bool { return d.Existing == nil || d.Existing.RotateMaster }

// DefaultDatabase returns the environment's default database.
func (e Environment) DefaultDatabase() Database { return e.DatabaseList()[0] }

// DatabaseList returns the environment's databases, default first. An
// Environment not made by Load (tests, tools) has the default database
// only, with the environment-level settings.
func (e Environment) DatabaseList() []Database {
	if len(e.Databases) > 0 {
		return e.Databases
	}
	return []Database{{Name: DefaultDatabaseName, DatabaseSettings: e.DatabaseSettings}}
}

// WithDatabase returns e with d's settings in place of the environment-level
// ones, so code written for the single database reads d's values.
func (e Environment) WithDatabase(d Database) Environment {
	e.DatabaseSettings = d.DatabaseSettings
	return e
}

// SecretNamePrefix starts the name of every application user's secret of
// the environment: "<stackPrefix>/<env>/". It ends with "/", so one
// environment's prefix is never the start of another's ("dev/" is not a
// prefix of "dev2/..."); the doctor and the failure rule watch the
// environment's user secrets by it (ARN prefix), since a list of up to
// 1,500 ARNs fits neither an event pattern nor a policy.
func (e Environment) SecretNamePrefix() string { return e.StackPrefix + "/" + e.Name + "/" }

// UserSecretName is the name of user u's secret of database d:
// "<stackPrefix>/<env>/<database>/<user>". Every part is validated
// (letters, digits, '-' and '_' only, the whole at most 40+1+20+1+20+1+26
// = 109 characters, Secrets Manager allows 512 of ASCII letters, digits
// and /_+=.@-), and it never ends in a hyphen and six characters (a user
// name has no hyphen), which Secrets Manager advises against because the
// ARN adds "-" and six characters
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html).
func (e Environment) UserSecretName(d Database, u User) string {
	return e.SecretNamePrefix() + d.Name + "/" + u.Name
}

// StackIDSuffix is the suffix of d's stack id after the environment's
// prefix: "Database" for the default, "Database-<name>" for the others.
func (d Database) StackIDSuffix() string {
	if d.IsDefault() {
		return "Database"
	}
	return "Database-" + d.Name
}

// UserCount returns the number of application users of every database.
func (e Environment) UserCount() int {
	n := 0
	for _, d := range e.DatabaseList() {
		n += len(d.Users)
	}
	return n
}

// creationOnlyKeys are settings that mean nothing for an existing database.
var creationOnlyKeys = []string{
	"instanceClass", "engineVersion", "allocatedStorageGiB", "multiAz", "backupRetentionDays",
	"removalPolicy", "deletionProtection", "databasePort", "caCertificateIdentifier",
}

// databaseSettingKeys lists the JSON keys of DatabaseSettings.
func databaseSettingKeys() []string { return jsonKeys(DatabaseSettings{}) }

// databaseKeys lists the keys a "databases" entry may hold.
func databaseKeys() []string {
	return append(databaseSettingKeys(), "existing", "users")
}
