package detect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// TestGuardRulesOnLabelledEvents: the Organizations, KMS, group, policy
// and ransom-note rules on events in the shapes AWS's CloudTrail
// documentation gives for each call (Organizations' policy ids, KMS's
// key policy as a JSON string, a grant's granteePrincipal, S3 data
// events' bytesTransferredIn), and on the look-alikes that must stay
// quiet.
func TestGuardRulesOnLabelledEvents(t *testing.T) {
	const (
		in      = `"recipientAccountId":"111122223333",`
		role    = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/mallory"
		console = "console.amazonaws.com"
		key     = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	org, kms, iam, s3 := "organizations.amazonaws.com", "kms.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com"
	keyPolicy := func(principal, condition string) string {
		return fmt.Sprintf(`{"keyId":%q,"policyName":"default","bypassPolicyLockoutSafetyCheck":false,"policy":%q}`, key,
			`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",`+
				`"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},`+
				`{"Sid":"Use","Effect":"Allow","Principal":`+principal+`,"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"`+condition+`}]}`)
	}
	inline := func(action string) string {
		return fmt.Sprintf(`{"roleName":"ci","policyName":"p","policyDocument":%q}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"`+action+`","Resource":"*"}]}`)
	}
	scp := `"responseElements":{"policy":{"policySummary":{"id":"p-examplepolicyid111","name":"DenyLeaveOrg","type":"SERVICE_CONTROL_POLICY","awsManaged":false},"content":"{}"}},`
	tagPolicy := `"responseElements":{"policy":{"policySummary":{"id":"p-95ouxtjzje","name":"CostCenter","type":"TAG_POLICY","awsManaged":false}}},`
	put := func(objectKey string, bytes int) rec {
		return rec{source: s3, name: "PutObject", extra: in + fmt.Sprintf(`"eventCategory":"Data","additionalEventData":{"bytesTransferredIn":%d,"SSEApplied":"Default_SSE_S3"},`, bytes),
			req: fmt.Sprintf(`{"bucketName":"data","Host":"data.s3.us-east-1.amazonaws.com","key":%q,"x-id":"PutObject"}`, objectKey)}
	}
	tests := []struct {
		name string
		r    rec
		want []string
	}{
		// T1484 Organizations guardrails (management-account events)
		{"SCP detached from an OU", rec{source: org, name: "DetachPolicy",
			req: `{"policyId":"p-examplepolicyid111","targetId":"ou-examplerootid111-exampleouid111"}`}, []string{"KW-CT-ORG-POLICY-CHANGED"}},
		{"policy deleted", rec{source: org, name: "DeletePolicy", req: `{"policyId":"p-examplepolicyid111"}`}, []string{"KW-CT-ORG-POLICY-CHANGED"}},
		{"SCPs disabled for the root", rec{source: org, name: "DisablePolicyType",
			req: `{"rootId":"r-examplerootid111","policyType":"SERVICE_CONTROL_POLICY"}`}, []string{"KW-CT-ORG-POLICY-CHANGED"}},
		{"SCP rewritten from the console by an SSO session", rec{source: org, name: "UpdatePolicy", idType: "AssumedRole", arn: role, ua: console,
			extra: scp, req: `{"policyId":"p-examplepolicyid111","content":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}`},
			[]string{"KW-CT-ORG-POLICY-CHANGED"}},
		{"RCPs disabled", rec{source: org, name: "DisablePolicyType", req: `{"rootId":"r-1","policyType":"RESOURCE_CONTROL_POLICY"}`},
			[]string{"KW-CT-ORG-POLICY-CHANGED"}},
		{"default FullAWSAccess detached (narrows rights) is quiet", rec{source: org, name: "DetachPolicy",
			req: `{"policyId":"p-FullAWSAccess","targetId":"ou-examplerootid111-exampleouid111"}`}, nil},
		{"tag policies disabled is quiet", rec{source: org, name: "DisablePolicyType", req: `{"rootId":"r-1","policyType":"TAG_POLICY"}`}, nil},
		{"tag policy rewritten is quiet", rec{source: org, name: "UpdatePolicy", extra: tagPolicy, req: `{"policyId":"p-95ouxtjzje"}`}, nil},
		{"SCP detached by Control Tower is quiet", rec{source: org, name: "DetachPolicy", idType: "AssumedRole",
			arn: "arn:aws:sts::111122223333:assumed-role/AWSControlTowerAdmin/x", invokedBy: "controltower.amazonaws.com",
			req: `{"policyId":"p-examplepolicyid111","targetId":"ou-1"}`}, nil},
		{"refused DetachPolicy (a member account) is quiet", rec{source: org, name: "DetachPolicy", errCode: "AccessDeniedException",
			req: `{"policyId":"p-examplepolicyid111","targetId":"111122223333"}`}, nil},
		{"IAM DeletePolicy is not an Organizations policy", rec{source: iam, name: "DeletePolicy",
			req: `{"policyArn":"arn:aws:iam::111122223333:policy/old"}`}, nil},
		{"SCP attached is quiet", rec{source: org, name: "AttachPolicy", req: `{"policyId":"p-examplepolicyid111","targetId":"ou-1"}`}, nil},
		// T1537 KMS keys shared out
		{"key policy allowing another account", rec{source: kms, name: "PutKeyPolicy", extra: in,
			req: keyPolicy(`{"AWS":"arn:aws:iam::444455556666:root"}`, "")}, []string{"KW-CT-KMS-KEY-SHARED"}},
		{"key policy allowing everyone", rec{source: kms, name: "PutKeyPolicy", extra: in, req: keyPolicy(`"*"`, "")},
			[]string{"KW-CT-KMS-KEY-SHARED"}},
		{"key created with another account's role in its policy", rec{source: kms, name: "CreateKey", extra: in,
			req: `{"keySpec":"SYMMETRIC_DEFAULT","keyUsage":"ENCRYPT_DECRYPT","policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::444455556666:role/x\"]},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}`},
			[]string{"KW-CT-KMS-KEY-SHARED"}},
		{"grant to another account's role", rec{source: kms, name: "CreateGrant", extra: in,
			req: `{"keyId":"` + key + `","operations":["Decrypt","CreateGrant"],"granteePrincipal":"arn:aws:iam::444455556666:role/x"}`},
			[]string{"KW-CT-KMS-KEY-SHARED"}},
		{"the default key policy is quiet", rec{source: kms, name: "PutKeyPolicy", extra: in,
			req: keyPolicy(`{"AWS":"arn:aws:iam::111122223333:role/app"}`, "")}, nil},
		{"* limited by kms:CallerAccount is quiet", rec{source: kms, name: "PutKeyPolicy", extra: in,
			req: keyPolicy(`{"AWS":"*"}`, `,"Condition":{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":"ec2.us-east-1.amazonaws.com"}}`)}, nil},
		{"a service principal in the key policy is quiet", rec{source: kms, name: "PutKeyPolicy", extra: in,
			req: keyPolicy(`{"Service":"cloudtrail.amazonaws.com"}`, "")}, nil},
		{"grant to the account's own role is quiet", rec{source: kms, name: "CreateGrant", extra: in,
			req: `{"keyId":"` + key + `","operations":["Encrypt","RetireGrant"],"granteePrincipal":"arn:aws:iam::111122223333:role/app"}`}, nil},
		{"grant to a principal id (AWS's documented example) is quiet", rec{source: kms, name: "CreateGrant", extra: in, ua: "AWS Internal",
			req: `{"keyId":"` + key + `","operations":["Encrypt","RetireGrant"],"granteePrincipal":"AROAEXAMPLEID"}`}, nil},
		{"grant made by EBS for an attached volume is quiet", rec{source: kms, name: "CreateGrant", extra: in, idType: "AssumedRole",
			invokedBy: "ebs.amazonaws.com", req: `{"keyId":"` + key + `","granteePrincipal":"arn:aws:iam::444455556666:role/x"}`}, nil},
		{"refused key policy change is quiet", rec{source: kms, name: "PutKeyPolicy", extra: in, errCode: "AccessDeniedException",
			req: keyPolicy(`"*"`, "")}, nil},
		// T1098.003 groups
		{"user added to Administrators", rec{source: iam, name: "AddUserToGroup", req: `{"groupName":"Administrators","userName":"bob"}`},
			[]string{"KW-CT-IAM-GROUP-ESCALATION"}},
		{"user adding themselves to a group", rec{source: iam, name: "AddUserToGroup", req: `{"groupName":"developers","userName":"alice"}`},
			[]string{"KW-CT-IAM-GROUP-ESCALATION"}},
		{"SSO session adding a user to power users", rec{source: iam, name: "AddUserToGroup", idType: "AssumedRole", arn: role,
			req: `{"groupName":"aws-power-users","userName":"bob"}`}, []string{"KW-CT-IAM-GROUP-ESCALATION"}},
		{"user added to an ordinary group is quiet", rec{source: iam, name: "AddUserToGroup", req: `{"groupName":"developers","userName":"bob"}`}, nil},
		{"refused self-add is quiet", rec{source: iam, name: "AddUserToGroup", errCode: "AccessDenied",
			req: `{"groupName":"Administrators","userName":"alice"}`}, nil},
		{"group membership set by CloudFormation is quiet", rec{source: iam, name: "AddUserToGroup", idType: "AssumedRole",
			invokedBy: "cloudformation.amazonaws.com", req: `{"groupName":"Administrators","userName":"bob"}`}, nil},
		{"user removed from Administrators is quiet", rec{source: iam, name: "RemoveUserFromGroup",
			req: `{"groupName":"Administrators","userName":"bob"}`}, nil},
		// T1098.003 policies amounting to administrator, and broad ones
		{"IAMFullAccess attached", rec{source: iam, name: "AttachUserPolicy",
			req: `{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/IAMFullAccess"}`}, []string{"KW-CT-IAM-ADMIN-ATTACHED"}},
		{"AWSOrganizationsFullAccess attached to a role", rec{source: iam, name: "AttachRolePolicy",
			req: `{"roleName":"ci","policyArn":"arn:aws:iam::aws:policy/AWSOrganizationsFullAccess"}`}, []string{"KW-CT-IAM-ADMIN-ATTACHED"}},
		{"inline iam:* on *", rec{source: iam, name: "PutRolePolicy", req: inline("iam:*")}, []string{"KW-CT-IAM-ADMIN-ATTACHED"}},
		{"inline *:* on *", rec{source: iam, name: "PutRolePolicy", req: inline("*:*")}, []string{"KW-CT-IAM-ADMIN-ATTACHED"}},
		{"AmazonS3FullAccess attached to a group", rec{source: iam, name: "AttachGroupPolicy",
			req: `{"groupName":"devs","policyArn":"arn:aws:iam::aws:policy/AmazonS3FullAccess"}`}, []string{"KW-CT-IAM-BROAD-POLICY"}},
		{"PowerUserAccess attached", rec{source: iam, name: "AttachUserPolicy",
			req: `{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/PowerUserAccess"}`}, []string{"KW-CT-IAM-BROAD-POLICY"}},
		{"AmazonEC2FullAccess in GovCloud", rec{source: iam, name: "AttachRolePolicy",
			req: `{"roleName":"r","policyArn":"arn:aws-us-gov:iam::aws:policy/AmazonEC2FullAccess"}`}, []string{"KW-CT-IAM-BROAD-POLICY"}},
		{"ReadOnlyAccess is quiet", rec{source: iam, name: "AttachRolePolicy",
			req: `{"roleName":"audit","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`}, nil},
		{"a customer policy named FullAccess is quiet", rec{source: iam, name: "AttachRolePolicy",
			req: `{"roleName":"r","policyArn":"arn:aws:iam::111122223333:policy/S3FullAccess"}`}, nil},
		{"a service role policy is quiet", rec{source: iam, name: "AttachRolePolicy",
			req: `{"roleName":"f","policyArn":"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}`}, nil},
		{"inline iam:Get* is quiet", rec{source: iam, name: "PutRolePolicy", req: inline("iam:Get*")}, nil},
		{"full access attached by CloudFormation is quiet", rec{source: iam, name: "AttachRolePolicy", idType: "AssumedRole",
			invokedBy: "cloudformation.amazonaws.com", req: `{"roleName":"r","policyArn":"arn:aws:iam::aws:policy/AmazonS3FullAccess"}`}, nil},
		// T1486 ransom notes (S3 data events)
		{"note named HOW-TO-DECRYPT", put("HOW-TO-DECRYPT.txt", 412), []string{"KW-CT-S3-RANSOM-NOTE-NAMED"}},
		{"Stratus' FILES-DELETED.txt", put("FILES-DELETED.txt", 262), []string{"KW-CT-S3-RANSOM-NOTE-NAMED"}},
		{"README.md alone is quiet", put("docs/README.md", 2048), nil},
		{"a restore archive is quiet", put("backups/restore.tar.gz", 1024), nil},
		{"a large object named decrypt is quiet", put("DECRYPT_INSTRUCTIONS.txt", 5<<20), nil},
		{"reading a note is quiet", rec{source: s3, name: "GetObject", extra: in, req: `{"bucketName":"data","key":"HOW-TO-DECRYPT.txt"}`}, nil},
		{"a note copied by S3 replication is quiet", rec{source: s3, name: "PutObject", extra: in, idType: "AWSService",
			invokedBy: "s3.amazonaws.com", req: `{"bucketName":"data","key":"HOW-TO-DECRYPT.txt"}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rulesFired(t, NewEngine(), []cloudtrail.Event{tt.r.event(t)})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules fired (-want +got):\n%s", diff)
			}
		})
	}
}

// logCall is a CloudTrail read at t0+at from ua by ident.
func logCall(t testing.TB, at time.Duration, name, ua, ident string) cloudtrail.Event {
	return ev(t, fmt.Sprintf(`{"eventID":"l%d","eventTime":%q,"eventSource":"cloudtrail.amazonaws.com","eventName":%q,
		"sourceIPAddress":"203.0.113.7","userAgent":%q,"userIdentity":{%s},"requestParameters":{"maxResults":50}}`,
		at, t0.Add(at).Format(time.RFC3339Nano), name, ua, ident))
}

// TestGuardBurstsOnLabelledSequences: the ransom note after each Stratus
// S3 ransomware detonation, and the CloudTrail reads of an intruder,
// against the near misses (a deploy's README after a sync, an auditor's
// second run, the console's event history).
func TestGuardBurstsOnLabelledSequences(t *testing.T) {
	const key, key2 = "AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"
	note := func(k string, at time.Duration, bucket, name string) cloudtrail.Event {
		return s3Call(t, k, at, "PutObject", bucket, fmt.Sprintf(`{"bucketName":%q,"key":%q,"x-id":"PutObject"}`, bucket, name), "")
	}
	versioned := func(i int) string {
		return fmt.Sprintf(`{"bucketName":"data","key":"f%d.txt","versionId":"v%d","x-id":"DeleteObject"}`, i, i)
	}
	plain := func(i int) string {
		return fmt.Sprintf(`{"bucketName":"data","key":"f%d.txt","x-id":"DeleteObject"}`, i)
	}
	var individual, encrypted, syncDelete, readmeAfterPurge []cloudtrail.Event
	individual = append(individual, s3Call(t, key, 0, "ListObjectVersions", "data", "", ""))
	for i := range 5 {
		at := time.Duration(i+1) * time.Second
		individual = append(individual, s3Call(t, key, at, "DeleteObject", "data", versioned(i), ""))
		encrypted = append(encrypted, s3Call(t, key, at, "CopyObject", "data",
			fmt.Sprintf(`{"bucketName":"data","key":"f%d.txt","x-amz-copy-source":"data/f%d.txt","x-amz-server-side-encryption-customer-algorithm":"AES256"}`, i, i), ""))
		syncDelete = append(syncDelete, s3Call(t, key, at, "DeleteObject", "data", plain(i), ""))
		readmeAfterPurge = append(readmeAfterPurge, s3Call(t, key, at, "DeleteObject", "data", versioned(i), ""))
	}
	individual = append(individual, note(key, time.Minute, "data", "FILES-DELETED.txt"))
	encrypted = append(encrypted, note(key, time.Minute, "data", "FILES-DELETED.txt"))
	readmeAfterPurge = append(readmeAfterPurge, note(key, time.Minute, "data", "README.txt"))
	deletedThenNote := append(syncDelete[:5:5], note(key, time.Minute, "data", "HOW_TO_RECOVER_FILES.txt"))
	syncReadme := append(syncDelete[:5:5], note(key, time.Minute, "data", "README.md"))
	late := append(syncDelete[:5:5], note(key, 2*time.Hour, "data", "FILES-DELETED.txt"))
	otherKey := append(syncDelete[:5:5], note(key2, time.Minute, "data", "FILES-DELETED.txt"))
	otherBucket := append(syncDelete[:5:5], note(key, time.Minute, "logs", "FILES-DELETED.txt"))
	noteOnly := []cloudtrail.Event{note(key, 0, "data", "FILES-DELETED.txt")}

	user := `"type":"IAMUser","accessKeyId":"` + key + `","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"`
	sso := `"type":"AssumedRole","accessKeyId":"ASIAIOSFODNN7EXAMPLE","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Audit/alice"`
	reads := func(n int, ua, ident string, from time.Duration) []cloudtrail.Event {
		var out []cloudtrail.Event
		for i := range n {
			name := logReads[i%len(logReads)]
			out = append(out, logCall(t, from+time.Duration(i)*10*time.Second, name, ua, ident))
		}
		return out
	}
	cli := "aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64.ubuntu.22"
	twice := append(reads(40, cli, user, 0), reads(20, cli, user, time.Hour)...)

	by := func(id string) string { return "KW-CT-" + id + " " + key }
	tests := []struct {
		name   string
		events []cloudtrail.Event
		want   []string
	}{
		{"Stratus individual deletion, then its note", individual, []string{by("S3-VERSIONS-PURGED"), by("S3-RANSOM-NOTE")}},
		{"Stratus client-side encryption, then its note", encrypted, []string{by("S3-RANSOM-NOTE")}},
		{"a note after plain deletes", deletedThenNote, []string{by("S3-RANSOM-NOTE")}},
		{"a README after version deletes", readmeAfterPurge, []string{by("S3-RANSOM-NOTE")}},
		{"a README after a sync's deletes is quiet", syncReadme, nil},
		{"a note two hours after the deletes is quiet", late, nil},
		{"a note by another key is quiet", otherKey, nil},
		{"a note in another bucket is quiet", otherBucket, nil},
		{"a note without destruction is left to the named rule", noteOnly, nil},
		{"20 trail reads by a user's key", reads(20, cli, user, 0), []string{by("LOG-ENUM-BURST")}},
		{"a key's later bursts are known: one alert", twice, []string{by("LOG-ENUM-BURST")}},
		{"19 trail reads are quiet", reads(19, cli, user, 0), nil},
		{"the console's event history is quiet", reads(30, "AWS Internal", user, 0), nil},
		{"an SSO role session is quiet", reads(30, cli, sso, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := observeAll(t, Dispatch(AttackBursts(&MemStore{})...), tt.events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdminGroupJoinedOnLabelledSequences: membership of a group the
// trail saw granted administrator, whatever the group's name, against
// grants removed, grants short of administrator and other groups.
func TestAdminGroupJoinedOnLabelledSequences(t *testing.T) {
	const adder = "AKIAI44QH8DHBEXAMPLE"
	other := `"type":"IAMUser","accessKeyId":"` + adder + `","arn":"arn:aws:iam::111122223333:user/mallory","userName":"mallory"`
	grant := func(at time.Duration, name, req string) cloudtrail.Event {
		return iamCall(t, at, "iam.amazonaws.com", name, req, "", "")
	}
	add := func(at time.Duration, group, errCode string) cloudtrail.Event {
		e := iamCall(t, at, "iam.amazonaws.com", "AddUserToGroup", fmt.Sprintf(`{"groupName":%q,"userName":"bob"}`, group), "", other)
		e.ErrorCode = errCode
		return e
	}
	admin := `{"groupName":"ops","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`
	inline := fmt.Sprintf(`{"groupName":"ops","policyName":"all","policyDocument":%q}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	day := 24 * time.Hour
	tests := []struct {
		name   string
		events []cloudtrail.Event
		want   []string
	}{
		{"AdministratorAccess on ops, then a user added a month later",
			[]cloudtrail.Event{grant(0, "AttachGroupPolicy", admin), add(30*day, "ops", "")},
			[]string{"KW-CT-IAM-ADMIN-GROUP-JOINED " + adder}},
		{"an inline */* on ops, then two users added",
			[]cloudtrail.Event{grant(0, "PutGroupPolicy", inline), add(time.Hour, "ops", ""), add(2*time.Hour, "ops", "")},
			[]string{"KW-CT-IAM-ADMIN-GROUP-JOINED " + adder, "KW-CT-IAM-ADMIN-GROUP-JOINED " + adder}},
		{"administrator detached before the add is quiet", []cloudtrail.Event{grant(0, "AttachGroupPolicy", admin),
			grant(time.Hour, "DetachGroupPolicy", admin), add(2*time.Hour, "ops", "")}, nil},
		{"the inline policy deleted before the add is quiet", []cloudtrail.Event{grant(0, "PutGroupPolicy", inline),
			grant(time.Hour, "DeleteGroupPolicy", `{"groupName":"ops","policyName":"all"}`), add(2*time.Hour, "ops", "")}, nil},
		{"ReadOnlyAccess on the group is quiet", []cloudtrail.Event{grant(0, "AttachGroupPolicy",
			`{"groupName":"ops","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`), add(time.Hour, "ops", "")}, nil},
		{"another group is quiet", []cloudtrail.Event{grant(0, "AttachGroupPolicy", admin), add(time.Hour, "devs", "")}, nil},
		{"an add before the grant is quiet", []cloudtrail.Event{add(0, "ops", ""), grant(time.Hour, "AttachGroupPolicy", admin)}, nil},
		{"a refused add is quiet", []cloudtrail.Event{grant(0, "AttachGroupPolicy", admin), add(time.Hour, "ops", "AccessDenied")}, nil},
		{"a grant older than 90 days is forgotten", []cloudtrail.Event{grant(0, "AttachGroupPolicy", admin), add(91*day, "ops", "")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := observeAll(t, Dispatch(AttackBursts(&MemStore{})...), tt.events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSequenceAlertsSayWhatHappened: a sequence's detail names its last
// step (the user and group, the note and bucket), which dedup tells
// findings apart by.
func TestSequenceAlertsSayWhatHappened(t *testing.T) {
	grant := iamCall(t, 0, "iam.amazonaws.com", "AttachGroupPolicy",
		`{"groupName":"ops","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, "", "")
	add := iamCall(t, time.Hour, "iam.amazonaws.com", "AddUserToGroup", `{"groupName":"ops","userName":"bob"}`, "", "")
	del := s3Call(t, "AKIAIOSFODNN7EXAMPLE", 0, "DeleteObject", "data", "", "")
	note := s3Call(t, "AKIAIOSFODNN7EXAMPLE", time.Minute, "PutObject", "data", `{"bucketName":"data","key":"FILES-DELETED.txt"}`, "")
	d := Dispatch(AttackBursts(&MemStore{})...)
	var got []string
	for _, e := range []cloudtrail.Event{grant, add, del, note} {
		as, err := d.Observe(context.Background(), &e)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			got = append(got, a.Details["detail"].(string))
		}
	}
	want := []string{"user bob added to group ops, after 1 calls since 2024-08-01T10:00:00Z",
		"note FILES-DELETED.txt written to data, after 1 calls since 2024-08-01T10:00:00Z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

// TestLogEnumOnceSurvivesARestart: the key known to read trails stays
// known when watch --resume reloads the state.
func TestLogEnumOnceSurvivesARestart(t *testing.T) {
	store := &MemStore{}
	user := `"type":"IAMUser","accessKeyId":"AKIAIOSFODNN7EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"`
	var first, second []cloudtrail.Event
	for i := range 20 {
		first = append(first, logCall(t, time.Duration(i)*time.Second, "LookupEvents", "Boto3/1.34", user))
		second = append(second, logCall(t, time.Hour+time.Duration(i)*time.Second, "LookupEvents", "Boto3/1.34", user))
	}
	d := Dispatch(AttackBursts(store)...)
	if got := observeAll(t, d, first); len(got) != 1 {
		t.Fatalf("first burst: %v, want one alert", got)
	}
	if err := d.(Flusher).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := observeAll(t, Dispatch(AttackBursts(store)...), second); got != nil {
		t.Errorf("after a restart: %v, want none", got)
	}
}
