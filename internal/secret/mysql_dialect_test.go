package secret_test

import (
	"errors"
	"testing"

	// The cases of this package are MySQL/MariaDB secrets parsed with the
	// real dialect registration, so they also prove that moving the engine
	// list and default port out of this package kept every secret's meaning.
	_ "github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/secret"
)

// The MySQL dialect registers exactly the engines the model accepted
// before the registry, in the same order, with port 3306.
func TestMySQLDialectRegistration(t *testing.T) {
	for _, engine := range []string{"mysql", "aurora-mysql", "mariadb"} {
		s, err := secret.Parse(`{"engine":"` + engine + `","host":"h","username":"u","password":"p"}`)
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if s.Port != 3306 {
			t.Errorf("%s: default port %d, want 3306", engine, s.Port)
		}
	}
	_, err := secret.Parse(`{"engine":"postgres","host":"h","username":"u","password":"p"}`)
	var fe *secret.FieldError
	const want = `invalid database secret: field "engine": unsupported engine (want one of mysql, aurora-mysql, mariadb)`
	if !errors.As(err, &fe) || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
