package secret

import (
	"fmt"
	"strings"
	"sync"
)

// Dialect is what the neutral model needs to know about a family of
// database engines: the values of the "engine" key it serves and the port
// a secret without "port" means. The rest of a dialect (connecting, error
// classification, password statements) lives in its package under
// internal/engine, which registers this description from an init
// function, as database/sql drivers do. A program parses the secrets of
// the dialects it links (lambda/rotation, rotatectl, dbconnect and the
// connect library link internal/engine/mysql), so adding an engine adds a
// package and changes nothing here.
type Dialect struct {
	// Name names the dialect in messages, e.g. "MySQL/MariaDB".
	Name string
	// Engines are the accepted values of the "engine" key.
	Engines []string
	// DefaultPort is the port of a secret without "port" (1..65535).
	DefaultPort int
}

// RegisterDialect makes Parse accept d's engines. It panics when d has no
// engine, an empty engine name, a port outside 1..65535, or an engine
// another dialect registered: those are programming errors of the dialect
// package, found by any test that links it, never a reaction to input.
func RegisterDialect(d Dialect) {
	if err := dialects.register(d); err != nil {
		panic("secret.RegisterDialect: " + err.Error())
	}
}

// dialects holds every dialect linked into the program.
var dialects registry

// registry maps engine names to dialects, in registration order.
type registry struct {
	mu      sync.RWMutex
	engines []string // every registered engine, for the error message
	byName  map[string]Dialect
}

func (r *registry) register(d Dialect) error {
	if len(d.Engines) == 0 {
		return fmt.Errorf("dialect %q has no engine", d.Name)
	}
	if d.DefaultPort < 1 || d.DefaultPort > 65535 {
		return fmt.Errorf("dialect %q: default port %d outside 1..65535", d.Name, d.DefaultPort)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range d.Engines {
		if e == "" {
			return fmt.Errorf("dialect %q has an empty engine name", d.Name)
		}
		if prev, dup := r.byName[e]; dup {
			return fmt.Errorf("engine %q of dialect %q is already registered by %q", e, d.Name, prev.Name)
		}
	}
	if r.byName == nil {
		r.byName = map[string]Dialect{}
	}
	d.Engines = append([]string(nil), d.Engines...)
	for _, e := range d.Engines {
		r.byName[e] = d
		r.engines = append(r.engines, e)
	}
	return nil
}

// lookup returns the dialect serving engine, or the reason for the
// "engine" field's error: the registered engines, or that none is linked.
func (r *registry) lookup(engine string) (Dialect, string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if d, ok := r.byName[engine]; ok {
		return d, ""
	}
	if len(r.engines) == 0 {
		return Dialect{}, "unsupported engine (no database dialect is linked into this program)"
	}
	return Dialect{}, "unsupported engine (want one of " + strings.Join(r.engines, ", ") + ")"
}
