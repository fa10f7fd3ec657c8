package scan

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
)

// TestFindSyntaxes feeds every syntax people store keys in and checks the
// exact matches: a pair where id and secret are both there.
func TestFindSyntaxes(t *testing.T) {
	id := awstest.FakeKeyID("syntax", 123456789012)
	sec := awstest.FakeSecret("syntax")
	sid := awstest.FakeSessionKeyID("syntax", 210987654321)
	tok := awstest.FakeSessionToken("syntax")
	pair := []got{{Rule: RuleKeyPair, KeyID: id, Secret: sec}}
	session := []got{{Rule: RuleSession, KeyID: sid, Secret: sec, SessionToken: tok}}
	nbSource, _ := json.Marshal(map[string]any{"cells": []any{map[string]any{
		"cell_type": "code",
		"source": []string{"import os\n", fmt.Sprintf("os.environ[\"AWS_ACCESS_KEY_ID\"] = \"%s\"\n", id),
			fmt.Sprintf("os.environ[\"AWS_SECRET_ACCESS_KEY\"] = \"%s\"\n", sec)},
	}}})
	nbOneString, _ := json.Marshal(map[string]any{"outputs": []any{map[string]any{
		"text": fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", id, sec)}}})
	tests := []struct {
		name string
		text string
		want []got
	}{
		{"ini credentials file", "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\nregion = eu-west-1\n", pair},
		{"pair beside an unrelated upper-case token", "aws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\nbuild = 7WAS" + awstest.FakeKeyID("b", 1)[4:] + "\n", pair},
		{"ini secret before id", "[p]\naws_secret_access_key=" + sec + "\naws_access_key_id=" + id + "\n", pair},
		{"ini session profile", "[tmp]\naws_access_key_id = " + sid + "\naws_secret_access_key = " + sec + "\naws_session_token = " + tok + "\n", session},
		{"ini session token between", "[tmp]\naws_access_key_id = " + sid + "\naws_session_token = " + tok + "\naws_secret_access_key = " + sec + "\n", session},
		{"dotenv", "AWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\n", pair},
		{"shell export quoted", "export AWS_ACCESS_KEY_ID=\"" + id + "\"\nexport AWS_SECRET_ACCESS_KEY='" + sec + "'\n", pair},
		{"yaml", "aws:\n  access_key_id: " + id + "\n  secret_access_key: \"" + sec + "\"\n", pair},
		{"yaml block scalar", "aws_access_key_id: >-\n  " + id + "\naws_secret_access_key: >-\n  " + sec + "\n", pair},
		{"json", `{"AccessKeyId": "` + id + `", "SecretAccessKey": "` + sec + `"}`, pair},
		{"sts json", `{"Credentials": {"AccessKeyId": "` + sid + `", "SecretAccessKey": "` + sec + `", "SessionToken": "` + tok + `", "Expiration": "2030-01-01T00:00:00Z"}}`, session},
		{"terraform hcl", "provider \"aws\" {\n  region     = \"us-east-1\"\n  access_key = \"" + id + "\"\n  secret_key = \"" + sec + "\"\n}\n", pair},
		{"python boto3", "s3 = boto3.client('s3', aws_access_key_id='" + id + "', aws_secret_access_key='" + sec + "')\n", pair},
		{"javascript sdk", "const s3 = new AWS.S3({ accessKeyId: '" + id + "', secretAccessKey: '" + sec + "' });\n", pair},
		{"go sdk", "cfg.Credentials = credentials.NewStaticCredentialsProvider(\"" + id + "\", \"" + sec + "\", \"\")\n", pair},
		{"java sdk", "AWSCredentials c = new BasicAWSCredentials(\"" + id + "\", \"" + sec + "\");\n", pair},
		{"csharp sdk", "var creds = new BasicAWSCredentials(\"" + id + "\", \"" + sec + "\");\n", pair},
		{"xml", "<Credentials>\n  <AccessKeyId>" + id + "</AccessKeyId>\n  <SecretAccessKey>" + sec + "</SecretAccessKey>\n</Credentials>\n", pair},
		{"console csv", "Access key ID,Secret access key\n" + id + "," + sec + "\n", pair},
		{"console csv with user", "User name,Password,Access key ID,Secret access key,Console login link\nalice,," + id + "," + sec + ",https://123456789012.signin.aws.amazon.com/console\n", pair},
		{"jupyter source lines", string(nbSource), pair},
		{"jupyter escaped newlines", string(nbOneString), pair},
		{"docker compose env", "services:\n  app:\n    environment:\n      - AWS_ACCESS_KEY_ID=" + id + "\n      - AWS_SECRET_ACCESS_KEY=" + sec + "\n", pair},
		{"docker config auth", `{"auths": {"https://index.docker.io/v1/": {"auth": "` + base64.StdEncoding.EncodeToString([]byte(id+":"+sec)) + `"}}}`,
			[]got{{Rule: RuleKeyPair, KeyID: id, Secret: sec, Encoding: EncBase64}}},
		{"lone long-term id", "key: " + id + "\n", []got{{Rule: RuleKeyID, KeyID: id}}},
		{"lone named secret", "aws_secret_access_key = " + sec + "\n", []got{{Rule: RuleSecretKey, Secret: sec}}},
		{"lone secret under secretKey", "System.setProperty(\"aws.secretKey\", \"" + sec + "\");\n", []got{{Rule: RuleSecretKey, Secret: sec}}},
		{"lone temporary id", "aws_access_key_id = " + sid + "\n", nil},
	}
	d := NewDetector()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, flatten(d.Find([]byte(tt.text)))); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFindCSVRows pairs each row's id with its own secret.
func TestFindCSVRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("Access key ID,Secret access key\n")
	var want []got
	for i := 0; i < 5; i++ {
		id, sec := awstest.FakeKeyID(fmt.Sprint("row", i), 100000000000+uint64(i)), awstest.FakeSecret(fmt.Sprint("row", i))
		fmt.Fprintf(&b, "%s,%s\n", id, sec)
		want = append(want, got{Rule: RuleKeyPair, KeyID: id, Secret: sec})
	}
	if diff := cmp.Diff(want, flatten(NewDetector().Find([]byte(b.String())))); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
}
