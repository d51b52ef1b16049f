package projections

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"partners/domain"
)

// domainTypesRead lists, per function of the files, the domain types it
// tells apart (type switch cases and type assertions), keyed by
// "Receiver.Apply" for methods and the plain name for functions.
func domainTypesRead(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		qualifier := "domain"
		if file.Name.Name == "domain" {
			qualifier = ""
		}
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil {
				typ := fd.Recv.List[0].Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				name = fmt.Sprint(typ) + "." + name
			}
			add := func(e ast.Expr) {
				switch x := e.(type) {
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == qualifier {
						out[name] = append(out[name], x.Sel.Name)
					}
				case *ast.Ident:
					if qualifier == "" {
						out[name] = append(out[name], x.Name)
					}
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.TypeAssertExpr:
					if x.Type != nil {
						add(x.Type)
					}
				case *ast.TypeSwitchStmt:
					for _, c := range x.Body.List {
						for _, e := range c.(*ast.CaseClause).List {
							add(e)
						}
					}
				}
				return true
			})
		}
	}
	return out
}

// Rebuilds and as-of answers read only the event types a read model
// declares; an event its Apply reads but does not declare would be silently
// missing from every rebuilt table and every answer about the past.
func TestEventTypesCoverWhatApplyReads(t *testing.T) {
	t.Parallel()
	read := domainTypesRead(t, "*.go")
	byReceiver := map[string]Projection{}
	for _, pr := range All() {
		byReceiver[fmt.Sprintf("%T", pr)[len("projections."):]] = pr
	}
	for fn, types := range read {
		recv, method, ok := strings.Cut(fn, ".")
		if !ok || method != "Apply" {
			// Only the driver may tell events apart outside Apply.
			for _, typ := range types {
				if !(fn == "applyEvent" && typ == "PersonForgotten") {
					t.Errorf("%s reads %s outside a read model's Apply: declare it in that read model's EventTypes and move it there", fn, typ)
				}
			}
			continue
		}
		pr, ok := byReceiver[recv]
		if !ok {
			t.Errorf("%s.Apply belongs to no read model of All()", recv)
			continue
		}
		declared := pr.EventTypes()
		for _, typ := range types {
			if _, isEvent := domain.LookupEvent(typ); !isEvent {
				// An interface (domain.Organizational): Members reads every
				// event of the organization's stream.
				if recv == "Members" && typ == "Organizational" {
					continue
				}
				t.Errorf("%s.Apply reads %s, which is not an event type: say which event types it stands for", recv, typ)
				continue
			}
			if !slices.Contains(declared, typ) {
				t.Errorf("%s.Apply reads %s but EventTypes does not list it", recv, typ)
			}
		}
		for _, typ := range declared {
			if _, ok := domain.LookupEvent(typ); !ok {
				t.Errorf("%s.EventTypes lists %q, which is not a registered event type", recv, typ)
			}
		}
		if len(personalColumns[pr.Name()]) > 0 && !slices.Contains(eventTypes(pr), "PersonForgotten") {
			t.Errorf("%s holds personal data but its replays skip PersonForgotten", recv)
		}
	}
	// Members declares the organization stream's types: the aggregate's
	// Apply is the list of what that stream holds.
	orgs := domainTypesRead(t, "../domain/organization.go")["Organization.Apply"]
	if len(orgs) == 0 {
		t.Fatal("found no cases in domain Organization.Apply")
	}
	for _, typ := range orgs {
		if !slices.Contains(domain.OrganizationEventTypes(), typ) {
			t.Errorf("the organization stream holds %s but domain.OrganizationEventTypes does not list it", typ)
		}
	}
}
