package graph_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/membergraph/membergraph/internal/auth"
	"github.com/membergraph/membergraph/internal/store"
	"github.com/membergraph/membergraph/internal/storetest"
)

// TestSchemaIsDescribed: the playground's Docs pane is the API's reference, so every type,
// field, argument, input field, enum value and directive the real handler introspects carries a
// description — the hand-written SDL and the part entgql generates alike.
func TestSchemaIsDescribed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) { checkSchemaDescribed(t, newAPI(t, db)) })
}

func checkSchemaDescribed(t *testing.T, a *api) {
	type arg struct{ Name, Description string }
	var out struct {
		Schema struct {
			Types []struct {
				Name, Kind, Description string
				Fields                  []struct {
					Name, Description string
					Args              []arg
				}
				InputFields []arg
				EnumValues  []arg
			}
			Directives []struct {
				Name, Description string
				Args              []arg
			}
		} `json:"__schema"`
	}
	a.must(a.token(auth.RoleAdmin, ""), `query SchemaDescriptions { __schema {
		types { name kind description
			fields(includeDeprecated: true) { name description args { name description } }
			inputFields { name description }
			enumValues(includeDeprecated: true) { name description } }
		directives { name description args { name description } } } }`, nil, &out)

	var missing []string
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	for _, ty := range out.Schema.Types {
		// The introspection types are the GraphQL spec's; everything else, gqlparser's built-in
		// scalars and directives included, carries a description.
		if strings.HasPrefix(ty.Name, "__") {
			continue
		}
		if blank(ty.Description) {
			missing = append(missing, ty.Name)
		}
		for _, f := range ty.Fields {
			if blank(f.Description) {
				missing = append(missing, ty.Name+"."+f.Name)
			}
			for _, a := range f.Args {
				if blank(a.Description) {
					missing = append(missing, ty.Name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		for _, f := range ty.InputFields {
			if blank(f.Description) {
				missing = append(missing, ty.Name+"."+f.Name)
			}
		}
		for _, v := range ty.EnumValues {
			if blank(v.Description) {
				missing = append(missing, ty.Name+"."+v.Name)
			}
		}
	}
	for _, d := range out.Schema.Directives {
		if blank(d.Description) {
			missing = append(missing, "@"+d.Name)
		}
		for _, a := range d.Args {
			if blank(a.Description) {
				missing = append(missing, "@"+d.Name+"("+a.Name+")")
			}
		}
	}
	if len(out.Schema.Types) < 50 {
		t.Fatalf("introspection answered %d types; the schema has far more", len(out.Schema.Types))
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d schema elements have no description:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
