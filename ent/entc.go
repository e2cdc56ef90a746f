//go:build ignore

// entc.go generates the data layer and the ent part of the GraphQL schema. It runs from the
// repository root through `go generate ./...` (see ../generate.go), before gqlgen.
package main

import (
	"encoding/json"
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./schema/ent.graphqls"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(false),
		entgql.WithSchemaHook(describe),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureVersionedMigration,
			gen.FeatureGlobalID,
			gen.FeatureUpsert,
			gen.FeatureLock,
			gen.FeatureModifier,
			gen.FeatureExecQuery,
			gen.FeatureIntercept,
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// describe gives every type, field, argument and enum value of schema/ent.graphqls a
// description, which the playground's Docs pane shows and graph/schema_doc_test.go demands.
// Entities, their fields and edges describe themselves in ent/schema (schema.Comment, Comment,
// and schema.EnumDoc for an enum's values); what entgql derives from them — ids, where-input
// predicates, order fields, the Query type, gqlgen's directives — is described here from its
// name, and only where entgql left no description.
func describe(g *gen.Graph, s *ast.Schema) error {
	objectFields := map[string]map[string]bool{} // GraphQL type → its field names
	for name, def := range s.Types {
		if def.Kind == ast.Object || def.Kind == ast.Interface {
			objectFields[name] = map[string]bool{}
			for _, f := range def.Fields {
				objectFields[name][f.Name] = true
			}
		}
	}
	for _, t := range g.Nodes {
		gqlType := t.Name
		if ant, err := entgqlAnnotation(t.Annotations); err != nil {
			return err
		} else if ant.Type != "" {
			gqlType = ant.Type
		}
		if def := s.Types[gqlType]; def != nil && def.Description == "" {
			var c struct{ Text string }
			if err := decode(t.Annotations["Comment"], &c); err != nil {
				return err
			}
			def.Description = c.Text
		}
		for _, f := range t.Fields {
			if err := describeEnum(s, f); err != nil {
				return err
			}
		}
		// entgql drops an edge's comment when it makes the edge a connection.
		for _, e := range t.Edges {
			ant, err := entgqlAnnotation(e.Annotations)
			if err != nil {
				return err
			}
			names := ant.Mapping
			if len(names) == 0 {
				names = []string{lowerCamel(e.Name)}
			}
			for _, n := range names {
				if def := s.Types[gqlType]; def != nil && def.Fields.ForName(n) != nil {
					setDesc(&def.Fields.ForName(n).Description, e.Comment())
				}
			}
		}
	}
	for name, def := range s.Types {
		switch {
		case name == "Query":
			setDesc(&def.Description, "What can be read: members, the programme, quotes, partners and more.")
		case strings.HasSuffix(name, "WhereInput"):
			fields := objectFields[strings.TrimSuffix(name, "WhereInput")]
			for _, f := range def.Fields {
				// entgql's "x field predicates" on the first predicate of each field says less
				// than the generic sentence does.
				if strings.HasSuffix(f.Description, " field predicates") {
					f.Description = ""
				}
				setDesc(&f.Description, predicateDesc(f.Name, fields))
			}
		case strings.HasSuffix(name, "OrderField") && def.Kind == ast.Enum:
			for _, v := range def.EnumValues {
				setDesc(&v.Description, "Orders by "+lowerCamel(v.Name)+".")
			}
		}
		for _, f := range def.Fields {
			if f.Name == "id" && def.Kind != ast.InputObject {
				setDesc(&f.Description, "The object's id, unique across all types: node(id:) fetches it.")
			}
		}
	}
	for name, desc := range gqlgenDirectives {
		d := s.Directives[name]
		if d == nil {
			continue
		}
		setDesc(&d.Description, desc[""])
		for _, a := range d.Arguments {
			setDesc(&a.Description, desc[a.Name])
		}
	}
	return nil
}

// gqlgenDirectives describe the directives entgql declares for gqlgen, by directive and
// argument ("" for the directive itself).
var gqlgenDirectives = map[string]map[string]string{
	"goField": {
		"":              "gqlgen: how a field binds to Go code. It changes nothing for clients.",
		"forceResolver": "Resolve the field with a resolver method instead of reading a Go field.",
		"name":          "The Go field or method the field binds to.",
		"omittable":     "Tell an input field left out from one set to null.",
	},
	"goModel": {
		"":              "gqlgen: the Go type a GraphQL type binds to. It changes nothing for clients.",
		"model":         "The Go type, as import path and name.",
		"models":        "Go types, any of which the GraphQL type binds to.",
		"forceGenerate": "Generate a Go type even though one is bound.",
	},
}

// predicates are the where-input suffixes entgql generates, longest first so that a suffix
// is not mistaken for a shorter one (NotIn before In), with what each says of the field.
var predicates = []struct{ suffix, says string }{
	{"ContainsFold", "contains the value, ignoring case"},
	{"EqualFold", "equals the value, ignoring case"},
	{"HasPrefix", "starts with the value"},
	{"HasSuffix", "ends with the value"},
	{"Contains", "contains the value"},
	{"NotNil", "is not null"},
	{"IsNil", "is null"},
	{"NotIn", "is none of the values"},
	{"GTE", "is at least the value"},
	{"LTE", "is at most the value"},
	{"NEQ", "differs from the value"},
	{"GT", "is greater than the value"},
	{"LT", "is less than the value"},
	{"In", "is one of the values"},
	{"", "equals the value"},
}

// predicateDesc describes the where-input field name of a type whose fields are fields.
func predicateDesc(name string, fields map[string]bool) string {
	switch name {
	case "not":
		return "Matches what the condition does not match."
	case "and":
		return "Matches what every condition matches."
	case "or":
		return "Matches what at least one condition matches."
	}
	for _, p := range predicates {
		if base, ok := strings.CutSuffix(name, p.suffix); ok && fields[base] {
			return base + " " + p.says + "."
		}
	}
	if edge, ok := strings.CutPrefix(name, "has"); ok {
		if e, ok := strings.CutSuffix(edge, "With"); ok && fields[lowerFirst(e)] {
			return "Matches when some " + lowerFirst(e) + " matches every condition."
		}
		if fields[lowerFirst(edge)] {
			return "true: matches when there is some " + lowerFirst(edge) + "; false: when there is none."
		}
	}
	return ""
}

// describeEnum fills in the enum type entgql made for f from the field's schema.EnumDoc.
func describeEnum(s *ast.Schema, f *gen.Field) error {
	if !f.IsEnum() || f.Annotations["EnumDoc"] == nil {
		return nil
	}
	ant, err := entgqlAnnotation(f.Annotations)
	if err != nil || ant.Type == "" {
		return err
	}
	def := s.Types[ant.Type]
	if def == nil {
		return nil
	}
	var doc struct {
		Type   string
		Values map[string]string
	}
	if err := decode(f.Annotations["EnumDoc"], &doc); err != nil {
		return err
	}
	// entgql's own sentence ("X is enum for the field y") names the Go side, not the meaning.
	if strings.Contains(def.Description, " is enum for the field ") {
		def.Description = ""
	}
	setDesc(&def.Description, doc.Type)
	for _, v := range def.EnumValues {
		setDesc(&v.Description, doc.Values[v.Name])
	}
	return nil
}

func entgqlAnnotation(ants gen.Annotations) (*entgql.Annotation, error) {
	ant := &entgql.Annotation{}
	if ants == nil || ants[ant.Name()] == nil {
		return ant, nil
	}
	return ant, ant.Decode(ants[ant.Name()])
}

// decode reads an annotation, which entc hands over as decoded JSON, into v.
func decode(annotation any, v any) error {
	if annotation == nil {
		return nil
	}
	b, err := json.Marshal(annotation)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func setDesc(dst *string, desc string) {
	if *dst == "" {
		*dst = desc
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// lowerCamel turns an order-field value such as REGISTERED_AT into registeredAt.
func lowerCamel(s string) string {
	parts := strings.Split(strings.ToLower(s), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
