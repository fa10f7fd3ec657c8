package iampolicy

import "testing"

func TestAllows(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::data/*"},
	 {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/secret/*"},
	 {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/mfa/*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},
	 {"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:ec2:*:*:instance/i-keep"}]}`
	e, err := Resolve(PolicySet{Inline: []InlinePolicy{{Name: "p", Document: doc}}}, Catalog{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"s3:GetObject", "arn:aws:s3:::data/a.txt", true},
		{"S3:getobject", "arn:aws:s3:::data/a.txt", true}, // actions: case-insensitive
		{"s3:GetObject", "arn:aws:s3:::Data/a.txt", true}, // NotAction statement: everything but iam on every resource but i-keep
		{"s3:GetObject", "arn:aws:s3:::data/secret/k", false},
		{"s3:GetObject", "arn:aws:s3:::data/mfa/k", true}, // a conditional deny does not cancel
		{"iam:PassRole", "arn:aws:iam::111122223333:role/r", false},
		{"ec2:StopInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-keep", false},
		{"ec2:StopInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-other", true},
	} {
		if got := Allows(e, c.action, c.resource); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	bounded := e
	bounded.Boundary = &Boundary{Known: true}
	if Allows(bounded, "s3:GetObject", "arn:aws:s3:::data/a.txt") {
		t.Error("an empty known boundary allows nothing")
	}
}
