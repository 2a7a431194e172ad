package operator

import (
	"slices"

	"github.com/example/secret-rotation/internal/grant"
)

// diffGrants returns, per object, the privileges of want that have lacks
// (missing) and those of have that want lacks (extra).
// TODO(i13): use engine.DiffGrants once i13-func is merged.
func diffGrants(have, want []grant.Grant) (missing, extra []grant.Grant) {
	sub := func(a, b []grant.Grant) []grant.Grant {
		var out []grant.Grant
		for _, g := range a {
			var d []string
			for _, p := range g.Privileges {
				held := false
				for _, h := range b {
					if h.Schema == g.Schema && h.Table == g.Table && slices.Contains(h.Privileges, p) {
						held = true
					}
				}
				if !held {
					d = append(d, p)
				}
			}
			if len(d) > 0 {
				out = append(out, grant.Grant{Privileges: d, Schema: g.Schema, Table: g.Table})
			}
		}
		return out
	}
	return sub(want, have), sub(have, want)
}
