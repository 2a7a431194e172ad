package secret

import (
	"strings"
	"testing"
)

var testMySQL = Dialect{Name: "MySQL", Engines: []string{"mysql", "mariadb"}, DefaultPort: 3306}

// A second dialect is an addition: its engines parse with its own default
// port, the first dialect's secrets keep theirs, and the error lists both.
func TestRegistrySecondDialect(t *testing.T) {
	var r registry
	for _, d := range []Dialect{testMySQL, {Name: "PostgreSQL", Engines: []string{"postgres"}, DefaultPort: 5432}} {
		if err := r.register(d); err != nil {
			t.Fatal(err)
		}
	}
	for engine, port := range map[string]int{"mysql": 3306, "mariadb": 3306, "postgres": 5432} {
		s, err := parse(`{"engine":"`+engine+`","host":"h","username":"u","password":"p"}`, &r)
		if err != nil || s.Port != port {
			t.Errorf("%s: port %v, err %v; want %d", engine, s, err, port)
		}
	}
	s, err := parse(`{"engine":"postgres","host":"h","username":"u","password":"p","port":6432}`, &r)
	if err != nil || s.Port != 6432 {
		t.Errorf("explicit port: %v %v", s, err)
	}
	_, err = parse(`{"engine":"oracle","host":"h","username":"u","password":"p"}`, &r)
	if want := "unsupported engine (want one of mysql, mariadb, postgres)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestRegistryNoDialect(t *testing.T) {
	var r registry
	_, err := parse(`{"engine":"mysql","host":"h","username":"u","password":"p"}`, &r)
	if want := `field "engine": unsupported engine (no database dialect is linked into this program)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestRegistryRefusesBadDialects(t *testing.T) {
	tests := []struct {
		name string
		d    Dialect
		want string
	}{
		{"no engine", Dialect{Name: "X", DefaultPort: 1}, "has no engine"},
		{"empty engine name", Dialect{Name: "X", Engines: []string{"x", ""}, DefaultPort: 1}, "empty engine name"},
		{"port 0", Dialect{Name: "X", Engines: []string{"x"}}, "outside 1..65535"},
		{"port 65536", Dialect{Name: "X", Engines: []string{"x"}, DefaultPort: 65536}, "outside 1..65535"},
		{"engine taken", Dialect{Name: "Fork", Engines: []string{"x", "mariadb"}, DefaultPort: 3306}, `engine "mariadb" of dialect "Fork" is already registered by "MySQL"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r registry
			if err := r.register(testMySQL); err != nil {
				t.Fatal(err)
			}
			err := r.register(tt.d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			// A refused dialect leaves nothing behind.
			if _, reason := r.lookup("x"); reason == "" {
				t.Errorf("engine x registered by a refused dialect")
			}
		})
	}
}

// RegisterDialect panics on a programming error of the dialect package.
func TestRegisterDialectPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "secret.RegisterDialect: ") {
			t.Fatalf("recover() = %v, want RegisterDialect's panic", r)
		}
	}()
	RegisterDialect(Dialect{Name: "empty"})
}
