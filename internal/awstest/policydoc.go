package awstest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// iamResource is an IAM resource ARN of a documented policy
// ("arn:aws:iam::*:role/keywarden-*", "arn:aws:iam::*:user/${aws:username}").
var iamResource = regexp.MustCompile(`"arn:aws:iam::\*:[a-z-]+/[^"]*"`)

// DocumentedPolicy reads docs/policies/NAME with its IAM resources widened
// to "*": moto evaluates actions but matches every IAM call against
// Resource "*" alone, so a test run as a user holding it proves the action
// list is complete, not the scope.
func DocumentedPolicy(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ModuleRoot(t), "docs", "policies", name))
	if err != nil {
		t.Fatal(err)
	}
	return iamResource.ReplaceAllString(string(data), `"*"`)
}
