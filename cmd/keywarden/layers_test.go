package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/keywarden/keywarden/"

// imports lists, per package directory (slash-separated, relative to the
// module root), what its non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", filepath.Dir(p))
		dir := filepath.ToSlash(rel)
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			if !slices.Contains(out[dir], ip) {
				out[dir] = append(out[dir], ip)
			}
		}
		if _, ok := out[dir]; !ok {
			out[dir] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isAdapter tells the packages allowed to call AWS services: awsx (what
// every verb shares), the test harness, and each consumer's adapter, a
// package named <consumer>aws inside the consumer's directory.
func isAdapter(dir string) bool {
	base := path.Base(dir)
	parent := path.Base(path.Dir(dir))
	return dir == "internal/awsx" || dir == "internal/awstest" ||
		(strings.HasSuffix(base, "aws") && base == parent+"aws")
}

// TestOnlyAdaptersCallAWSServices keeps SDK service clients at the edges:
// an engine that needs AWS declares an interface, and its adapter beside it
// implements the interface with the SDK.
func TestOnlyAdaptersCallAWSServices(t *testing.T) {
	for dir, ims := range imports(t) {
		for _, ip := range ims {
			if strings.HasPrefix(ip, "github.com/aws/aws-sdk-go-v2/service/") && !isAdapter(dir) {
				t.Errorf("%s imports %s: only internal/awsx and <consumer>/<consumer>aws adapters may", dir, ip)
			}
		}
	}
}

// TestAWSXImportsOnlyLeaves keeps awsx at the bottom of the graph: it
// loads configuration, builds clients and classifies errors for everyone,
// so it may know no verb's domain.
func TestAWSXImportsOnlyLeaves(t *testing.T) {
	leaves := []string{module + "internal/secret", module + "internal/credential", module + "internal/english"}
	for _, ip := range imports(t)["internal/awsx"] {
		if strings.HasPrefix(ip, module) && !slices.Contains(leaves, ip) {
			t.Errorf("internal/awsx imports %s: it may import only %v", ip, leaves)
		}
	}
}

// TestNothingImportsCLI keeps the cli at the top: engines and adapters
// never reach back into flag parsing or rendering.
func TestNothingImportsCLI(t *testing.T) {
	for dir, ims := range imports(t) {
		if dir == "cmd/keywarden" {
			continue
		}
		if slices.Contains(ims, module+"internal/cli") {
			t.Errorf("%s imports internal/cli: only cmd/keywarden may", dir)
		}
	}
}

// TestEnginesImportNoSDK keeps the engines pure: they take interfaces, and
// only awsx, the adapters, the cli that wires them, the Lambda runtime
// adapter and test support (awstest, iamfake, which speaks IAM's error
// codes) touch anything of AWS's.
func TestEnginesImportNoSDK(t *testing.T) {
	edge := []string{"internal/cli", "internal/lambda", "internal/awstest", "internal/iamfake"}
	for dir, ims := range imports(t) {
		if isAdapter(dir) || slices.Contains(edge, dir) {
			continue
		}
		for _, ip := range ims {
			if strings.HasPrefix(ip, "github.com/aws/") {
				t.Errorf("%s imports %s: an engine takes an interface its adapter implements", dir, ip)
			}
		}
	}
}
