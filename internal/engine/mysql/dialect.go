package mysql

import "github.com/example/secret-rotation/internal/secret"

// defaultPort is the MySQL/MariaDB server port, the port of a secret
// without a "port" key.
const defaultPort = 3306

// engines are the values of a secret's "engine" key this dialect serves:
// RDS for MySQL, Aurora MySQL and RDS for MariaDB, as AWS's rotation
// templates write them.
var engines = []string{"mysql", "aurora-mysql", "mariadb"}

// Linking this package is what makes secret.Parse accept these engines:
// the programs that connect (the rotation function, rotatectl, dbconnect,
// the connect library) import it, and the neutral model names no engine.
func init() {
	secret.RegisterDialect(secret.Dialect{Name: "MySQL/MariaDB", Engines: engines, DefaultPort: defaultPort})
}
