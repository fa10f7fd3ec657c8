package iampolicy

import "testing"

func TestAllowsCertainlyEvaluatesOneCallAgainstAllowsDeniesAndTheBoundary(t *testing.T) {
	doc := func(s string) Document {
		d, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	e := Only(doc(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::orders/*"},
		{"Effect":"Allow","Action":"sqs:*","NotResource":"arn:aws:sqs:eu-west-1:111122223333:private"},
		{"Effect":"Allow","Action":"sns:Publish","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
		{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::orders/locked/*"}]}`))
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"s3:GetObject", "arn:aws:s3:::orders/2026/a.json", true},
		{"S3:getobject", "arn:aws:s3:::orders/a", true},  // actions compare case-insensitively
		{"s3:GetObject", "arn:aws:s3:::ORDERS/a", false}, // resources do not
		{"s3:GetObject", "arn:aws:s3:::other/a", false},
		{"s3:DeleteObject", "arn:aws:s3:::orders/a", false},
		{"s3:PutObject", "arn:aws:s3:::orders/locked/x", false},
		{"sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:jobs", true},
		{"sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:private", false},
		{"sns:Publish", "arn:aws:sns:eu-west-1:111122223333:t", false}, // conditional: not counted
	} {
		if got := AllowsCertainly(e, c.action, c.resource); got != c.want {
			t.Errorf("AllowsCertainly(%s, %s) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	bounded := e
	bounded.Boundary = &Boundary{Known: true, Allow: Only(doc(`{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)).Allow}
	if AllowsCertainly(bounded, "s3:GetObject", "arn:aws:s3:::orders/a") || !AllowsCertainly(bounded, "sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:jobs") {
		t.Error("the boundary does not cap the grants")
	}
}
