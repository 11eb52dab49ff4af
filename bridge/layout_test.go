package bridge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The rooms of bridge/ keep their shape (README, Architecture): the engine
// package itself stays small, no struct carries more state than one job
// needs, and nothing under bridge/ knows a concrete platform or store.
const (
	maxEngineLines  = 2000
	maxStructFields = 20
)

// forbiddenImports are packages bridge/... must not import: the engine
// sees platforms and stores only through their contracts.
var forbiddenImports = []string{
	"github.com/secondme-bridge/secondme-bridge/platforms/discord",
	"github.com/secondme-bridge/secondme-bridge/platforms/slack",
	"github.com/secondme-bridge/secondme-bridge/store/bolt",
	"github.com/secondme-bridge/secondme-bridge/store/redis",
	"github.com/secondme-bridge/secondme-bridge/cmd",
	"github.com/secondme-bridge/secondme-bridge/internal/config",
}

func TestLayout(t *testing.T) {
	engineLines := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if filepath.Dir(path) == "." {
			engineLines += strings.Count(string(src), "\n")
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if p == bad || strings.HasPrefix(p, bad+"/") {
					t.Errorf("%s imports %s: bridge/ sees platforms and stores only through their contracts", path, p)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			fields := 0
			for _, fl := range st.Fields.List {
				fields += max(1, len(fl.Names))
			}
			if fields > maxStructFields {
				t.Errorf("%s: struct %s has %d fields, at most %d (split its state by job)", fset.Position(ts.Pos()), ts.Name.Name, fields, maxStructFields)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if engineLines > maxEngineLines {
		t.Errorf("package bridge has %d non-test lines, at most %d: move a job to its room", engineLines, maxEngineLines)
	}
	t.Logf("package bridge: %d non-test lines", engineLines)
}
