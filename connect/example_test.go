package connect_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// Open a *sql.DB for a secret in AWS Secrets Manager with the default AWS
// configuration (environment, profile or IMDS). Not run: it needs AWS.
func Example() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	db, err := connect.Open(ctx, "prod/app/mysql",
		connect.WithClient(secretsmanager.NewFromConfig(awsCfg)))
	if err != nil {
		log.Fatal(err) // names the secret id and host, never a password
	}
	defer db.Close()
	var now time.Time
	if err := db.QueryRowContext(ctx, "SELECT NOW()").Scan(&now); err != nil {
		log.Fatal(err)
	}
}

// A connection opened after the password changed logs in with the new
// value, with no restart. Runs against the package's test MariaDB and a
// local Secrets Manager endpoint; the rotation is done by hand here (the
// database password changed, then AWSCURRENT moved), as the rotation
// function's setSecret and finishSecret do.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sm, err := smlocal.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer sm.Close()
	client := sm.NewClient(ctx)
	const user = "example_open"
	if err := db.CreateUser(ctx, user, "first-password"); err != nil {
		log.Fatal(err)
	}
	defer db.DropUser(context.Background(), user)
	secretString := func(password string) *string {
		b, _ := json.Marshal(map[string]any{"engine": "mariadb", "host": db.Host(), "port": db.Port(),
			"username": user, "password": password, "ssl": true})
		return aws.String(string(b))
	}
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("app/example"), SecretString: secretString("first-password")}); err != nil {
		log.Fatal(err)
	}

	c, err := connect.NewConnector(ctx, "app/example",
		connect.WithClient(client), connect.WithCABundlePEM(db.CAPEM()))
	if err != nil {
		log.Fatal(err)
	}
	app := sql.OpenDB(c)
	defer app.Close()
	app.SetMaxIdleConns(0) // every query opens a new connection
	whoami := func() string {
		var u string
		if err := app.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&u); err != nil {
			return "error: " + err.Error()
		}
		return strings.SplitN(u, "@", 2)[0]
	}
	fmt.Println("before:", whoami())

	if _, err := db.RootDB().ExecContext(ctx, "ALTER USER '"+user+"'@'%' IDENTIFIED BY 'second-password'"); err != nil {
		log.Fatal(err)
	}
	if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("app/example"), SecretString: secretString("second-password"),
		VersionStages: []string{"AWSCURRENT"}}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after:", whoami(), "refreshes:", c.Stats().Refreshes)
	// Output:
	// before: example_open
	// after: example_open refreshes: 1
}
