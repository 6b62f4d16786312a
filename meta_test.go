// Package wgtools_test holds repository-wide checks: formatting, package
// documentation, the dependency rules of the house style, and go.mod hygiene.
package wgtools_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goList returns `go list -json ./...` for the module's packages.
func goList(t *testing.T) []pkgInfo {
	t.Helper()
	return goListTags(t, "")
}

// goListTags is goList with build tags.
func goListTags(t *testing.T, tags string) []pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-tags", tags, "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkgInfo
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

type pkgInfo struct {
	ImportPath  string
	Dir         string
	Name        string
	Imports     []string
	TestImports []string
	GoFiles     []string
}

const module = "github.com/wgtools/wgtools"

// TestPackageDocs requires a package comment in every package.
func TestPackageDocs(t *testing.T) {
	for _, p := range goList(t) {
		if len(p.GoFiles) == 0 {
			continue
		}
		documented := false
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if file.Doc != nil && strings.TrimSpace(file.Doc.Text()) != "" {
				documented = true
			}
		}
		if !documented {
			t.Errorf("package %s has no package comment", p.ImportPath)
		}
	}
}

// TestExportedDocs requires a doc comment on exported top-level functions
// and types of internal packages, starting with the identifier's name.
func TestExportedDocs(t *testing.T) {
	for _, p := range goList(t) {
		if !strings.Contains(p.ImportPath, "/internal/") {
			continue
		}
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range file.Decls {
				var name string
				var doc *ast.CommentGroup
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if d.Recv != nil {
						continue
					}
					name, doc = d.Name.Name, d.Doc
				case *ast.GenDecl:
					if d.Tok != token.TYPE || len(d.Specs) != 1 {
						continue
					}
					name, doc = d.Specs[0].(*ast.TypeSpec).Name.Name, d.Doc
				default:
					continue
				}
				if !ast.IsExported(name) {
					continue
				}
				if doc == nil || !strings.HasPrefix(doc.Text(), name+" ") {
					t.Errorf("%s: exported %s has no doc comment starting with its name", filepath.Join(p.ImportPath, f), name)
				}
			}
		}
	}
}

// owners gives each restricted third-party import the one package allowed
// to use it (style.md, practice 13). Test files are not restricted.
var owners = map[string]string{
	"github.com/spf13/cobra":                  "cmd/",
	"github.com/vishvananda/netlink":          "internal/route",
	"github.com/aymanbagabas/go-udiff":        "internal/quick",
	"golang.zx2c4.com/wireguard/wgctrl":       "internal/device",
	"golang.zx2c4.com/wireguard/device":       "internal/userspace",
	"golang.zx2c4.com/wireguard/tun":          "internal/userspace",
	"golang.zx2c4.com/wireguard/conn":         "internal/userspace",
	"golang.zx2c4.com/wireguard/ipc":          "internal/userspace",
	"golang.zx2c4.com/wireguard/tun/netstack": "nobody: it pulls in gVisor",
	// netlink handles are bound to a namespace through netns; tests create
	// namespaces with it.
	"github.com/vishvananda/netns": "internal/route internal/nettest",
}

// TestImportOwners enforces that each restricted import is used only by its
// owner, that nothing imports cmd/*, and that internal/nettest is imported
// only by tests.
func TestImportOwners(t *testing.T) {
	for _, p := range goList(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/cmd/") {
				t.Errorf("%s imports %s: nothing may import a command", rel, imp)
			}
			if imp == module+"/internal/nettest" {
				t.Errorf("%s imports internal/nettest outside a test", rel)
			}
			for prefix, owner := range owners {
				if imp != prefix && !strings.HasPrefix(imp, prefix+"/") {
					continue
				}
				// The key and config types are shared vocabulary, not the client.
				if strings.HasPrefix(imp, "golang.zx2c4.com/wireguard/wgctrl/wgtypes") {
					continue
				}
				allowed := false
				for _, o := range strings.Fields(owner) {
					allowed = allowed || strings.HasPrefix(rel, o)
				}
				if !allowed {
					t.Errorf("%s imports %s, which only %s may import", rel, imp, owner)
				}
			}
		}
	}
}

// layers gives each package the internal packages it may import: the
// layout README's "Architecture" describes, leaves first. An edge not
// written here fails the test, so a new one is a decision made here, not
// an accident. Test files are not restricted.
var layers = map[string][]string{
	"internal/keys":        nil,
	"internal/sysexec":     nil,
	"internal/route":       nil,
	"internal/nettest":     nil,
	"internal/config":      {"internal/keys"},
	"internal/show":        {"internal/keys"},
	"internal/dns":         {"internal/sysexec"},
	"internal/hooks":       {"internal/sysexec"},
	"internal/firewall":    {"internal/config", "internal/sysexec"},
	"internal/userspace":   {"internal/route"},
	"internal/device":      {"internal/config", "internal/keys"},
	"internal/quick":       {"internal/config", "internal/device", "internal/dns", "internal/firewall", "internal/hooks", "internal/keys", "internal/route", "internal/sysexec", "internal/userspace"},
	"internal/faultinject": {"internal/firewall", "internal/quick", "internal/route", "internal/sysexec"},
	"cmd/wg":               {"internal/config", "internal/device", "internal/keys", "internal/show"},
	"cmd/wg-quick":         {"internal/config", "internal/faultinject", "internal/quick", "internal/sysexec", "internal/userspace"},
	"bench/genconf":        {"internal/keys"},
	"bench/floor":          nil,
	"bench/pairtime":       nil,
	"":                     nil,
}

// TestImportDirections enforces layers, with every build tag the
// repository uses, so that a tagged file cannot add an edge unseen.
func TestImportDirections(t *testing.T) {
	for _, tags := range []string{"", "faultinject,vmtest"} {
		for _, p := range goListTags(t, tags) {
			rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
			allowed, ok := layers[rel]
			if !ok {
				t.Errorf("package %q is not in layers: add it with the internal packages it may import", rel)
				continue
			}
			for _, imp := range p.Imports {
				dep, ours := strings.CutPrefix(imp, module+"/")
				if !ours {
					continue
				}
				if !slices.Contains(allowed, dep) {
					t.Errorf("%s imports %s (tags %q), which layers does not allow; allowed: %v", rel, dep, tags, allowed)
				}
			}
		}
	}
}

// TestGoModTidy requires go.mod and go.sum as `go mod tidy` leaves them:
// every module imported directly is required without `// indirect`, and
// nothing unused is required.
func TestGoModTidy(t *testing.T) {
	out, err := exec.Command("go", "mod", "tidy", "-diff").CombinedOutput()
	if err != nil {
		t.Errorf("go.mod or go.sum is not tidy (go mod tidy -diff: %v):\n%s", err, out)
	}
}

// maxLines is how long a Go file may be before it must say why it is
// longer: a line `// This file is long because ...` in its first comment.
// Long files hide several concerns; a reason is fine, silence is not.
const maxLines = 600

// TestFileLength enforces maxLines.
func TestFileLength(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := strings.Count(string(data), "\n"); n > maxLines && !strings.Contains(string(data), "\n// This file is long because ") {
			t.Errorf("%s has %d lines (more than %d): split it by concern, or say why it is long in a `// This file is long because` comment", path, n, maxLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGoModNoReplace keeps go.mod free of replace directives, which would
// make our build differ from what `go install` users get.
func TestGoModNoReplace(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "replace") {
			t.Errorf("go.mod has a replace directive: %s", line)
		}
	}
}

// TestGofmt fails on any file gofmt would change.
func TestGofmt(t *testing.T) {
	out, err := exec.Command("gofmt", "-l", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("gofmt would change:\n%s", s)
	}
}
