package respondaws_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	motoAccount      = "123456789012"
	scopedPolicy     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`
	createUserPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:GetUser"],"Resource":"*"}]}`
)

// readDoc reads a file of the repository, by its path from the module root.
func readDoc(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(awstest.ModuleRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
