package dane

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocComments: the package comment names the RFCs, and every exported
// name, struct fields included, has a doc comment (a group comment counts
// for grouped constants).
func TestDocComments(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var pkgDoc string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Doc != nil {
			pkgDoc += f.Doc.Text()
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && d.Doc == nil {
					t.Errorf("%s: func %s has no doc comment", name, d.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					var names []*ast.Ident
					var doc, line *ast.CommentGroup
					switch s := spec.(type) {
					case *ast.TypeSpec:
						names, doc, line = []*ast.Ident{s.Name}, s.Doc, s.Comment
						if st, ok := s.Type.(*ast.StructType); ok {
							checkFields(t, name, s.Name.Name, st)
						}
					case *ast.ValueSpec:
						names, doc, line = s.Names, s.Doc, s.Comment
					}
					for _, n := range names {
						if n.IsExported() && doc == nil && line == nil && d.Doc == nil {
							t.Errorf("%s: %s has no doc comment", name, n)
						}
					}
				}
			}
		}
	}
	for _, rfc := range []string{"RFC 6698", "RFC 7671", "RFC 7672"} {
		if !strings.Contains(pkgDoc, rfc) {
			t.Errorf("package comment does not name %s", rfc)
		}
	}
}

// checkFields reports exported struct fields without a comment.
func checkFields(t *testing.T, file, typ string, st *ast.StructType) {
	t.Helper()
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if n.IsExported() && f.Doc == nil && f.Comment == nil {
				t.Errorf("%s: field %s.%s has no comment", file, typ, n)
			}
		}
	}
}
