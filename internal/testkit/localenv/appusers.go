package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// AppSchema is the schema the application users are granted on; it holds
// one table, AppTable, so that their grants can be used and probed.
const (
	AppSchema = "appdata"
	AppTable  = "orders"
)

// AppGrants are the grants every application user declares.
var AppGrants = []string{"SELECT, INSERT, UPDATE, DELETE ON " + AppSchema + ".*"}

// AppUser is an application user rotated with alternating users.
type AppUser struct {
	// Name is the declared user name; the rotation alternates between
	// Name and Name_clone.
	Name     string
	SecretID string
}

// WithApplicationUsers adds application users rotated with the
// alternating-users strategy by the same function: the master user
// (Env.User) gets the privileges of an RDS master user, AppSchema is
// created, and each name gets a secret "demo/app/NAME" naming the master
// secret ("masterarn") and declaring [AppGrants]. No database account is
// created by hand: Start configures rotation with an immediate rotation,
// which creates both accounts, then rotates once more, so that both
// accounts have logged in (MariaDB's USER_STATISTICS counts refused
// logins only of accounts that logged in before) and AWSPREVIOUS exists.
func WithApplicationUsers(names ...string) Option {
	return func(o *options) { o.appUsers = append(o.appUsers, names...) }
}

// startAppUsers runs after the master secret exists.
func (e *Env) startAppUsers(ctx context.Context, names []string) error {
	root := e.DB.RootDB()
	for _, stmt := range []string{
		"GRANT ALL PRIVILEGES ON *.* TO '" + e.User + "'@'%' WITH GRANT OPTION",
		"CREATE DATABASE IF NOT EXISTS " + AppSchema,
		"CREATE TABLE IF NOT EXISTS " + AppSchema + "." + AppTable + " (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NOT NULL DEFAULT '')",
	} {
		if _, err := root.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("prepare application users: %w", err)
		}
	}
	d, err := e.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
	if err != nil {
		return fmt.Errorf("describe master secret: %w", err)
	}
	for _, name := range names {
		u := AppUser{Name: name, SecretID: AppUserSecretPrefix + name}
		value, _ := json.Marshal(map[string]any{ // strings, ints and a string slice cannot fail to encode
			"engine": "mariadb", "host": e.DB.Host(), "port": e.DB.Port(), "ssl": true,
			"username": name, "password": "not-yet-set-by-rotation-1", "masterarn": aws.ToString(d.ARN),
			"grants": AppGrants,
		})
		if _, err := e.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(u.SecretID), SecretString: aws.String(string(value)),
		}); err != nil {
			return fmt.Errorf("create secret of %s: %w", name, err)
		}
		for i, in := range []*secretsmanager.RotateSecretInput{
			{SecretId: aws.String(u.SecretID), RotationLambdaARN: aws.String(FunctionARN),
				RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}},
			{SecretId: aws.String(u.SecretID)},
		} {
			if _, err := e.Client.RotateSecret(ctx, in); err != nil {
				return fmt.Errorf("rotation %d of %s: %w", i+1, u.SecretID, err)
			}
			if err := e.SM.WaitForRotations(ctx); err != nil {
				return err
			}
			if errs := e.SM.RotationErrors(); len(errs) > 0 {
				return fmt.Errorf("rotation %d of %s: %w", i+1, u.SecretID, errors.Join(errs...))
			}
		}
		e.AppUsers = append(e.AppUsers, u)
	}
	return nil
}

// AppUserSecretPrefix starts the names of the application users'
// secrets; the master secret is bound to it (rotation.MasterBindingTag).
const AppUserSecretPrefix = "demo/app/"
