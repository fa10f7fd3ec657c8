package iamdata

import (
	"testing"
)

func TestEmbeddedDataLoads(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Services) < 400 || d.Source == "" || d.Updated == "" {
		t.Fatalf("%d services from %q (%s)", len(d.Services), d.Source, d.Updated)
	}
	a, ok := d.Action("s3", "getobject")
	if !ok || a.Name != "GetObject" || a.Access != Read {
		t.Fatalf("s3:GetObject = %+v, %v", a, ok)
	}
	if tmpl := d.Template("s3", "object"); tmpl != "arn:${Partition}:s3:::${BucketName}/${ObjectName}" {
		t.Fatalf("s3 object template %q", tmpl)
	}
	if a, ok := d.Action("iam", "PassRole"); !ok || len(a.Resources) != 1 || !a.Resources[0].Required || a.Resources[0].Name != "role" {
		t.Fatalf("iam:PassRole = %+v", a)
	}
	for _, level := range []string{List, Read, Write, Permissions, Tagging} {
		found := false
		for _, s := range d.Services {
			for _, a := range s.Actions {
				found = found || a.Access == level
			}
		}
		if !found {
			t.Errorf("no action of access level %q", level)
		}
	}
}
