package lambda_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/lambda"
)

// loadTemplate parses deploy/template.yaml, keeping CloudFormation's
// short-form tags (!Ref, !GetAtt, !Sub, ...) on the nodes.
func loadTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(awstest.ModuleRoot(t), "deploy", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse deploy/template.yaml: %v", err)
	}
	return doc.Content[0]
}

// get walks mapping keys; nil when a key is missing.
func get(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func keys(n *yaml.Node) []string {
	var out []string
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return "<missing>"
	}
	return n.Tag + " " + n.Value
}

func TestTemplateDeclaresTheResources(t *testing.T) {
	tpl := loadTemplate(t)
	want := map[string]string{
		"StateTable": "AWS::DynamoDB::Table", "AlertTopic": "AWS::SNS::Topic", "DeadLetterQueue": "AWS::SQS::Queue",
		"FunctionLogGroup": "AWS::Logs::LogGroup", "FunctionRole": "AWS::IAM::Role", "WatchFunction": "AWS::Serverless::Function",
		"TrailObjectCreatedRule": "AWS::Events::Rule", "TrailObjectCreatedPermission": "AWS::Lambda::Permission",
		"CloudTrailEventsRule": "AWS::Events::Rule", "CloudTrailEventsPermission": "AWS::Lambda::Permission",
		"CanaryEventsRule": "AWS::Events::Rule", "CanaryEventsPermission": "AWS::Lambda::Permission",
		"CanaryCheckSchedule": "AWS::Events::Rule", "CanaryCheckPermission": "AWS::Lambda::Permission",
	}
	got := map[string]string{}
	res := get(tpl, "Resources")
	for _, name := range keys(res) {
		got[name] = get(res, name, "Type").Value
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	fn := get(res, "WatchFunction", "Properties")
	table := get(res, "StateTable", "Properties")
	checks := map[string]struct {
		node *yaml.Node
		want string
	}{
		"transform":        {get(tpl, "Transform"), "!!str AWS::Serverless-2016-10-31"},
		"runtime":          {get(fn, "Runtime"), "!!str provided.al2023"},
		"architecture":     {get(fn, "Architectures").Content[0], "!!str arm64"},
		"handler":          {get(fn, "Handler"), "!!str bootstrap"},
		"state table env":  {get(fn, "Environment", "Variables", lambda.EnvTable), "!Ref StateTable"},
		"fail-on env":      {get(fn, "Environment", "Variables", lambda.EnvFailOn), "!Ref FailOn"},
		"billing":          {get(table, "BillingMode"), "!!str PAY_PER_REQUEST"},
		"partition key":    {get(table, "KeySchema").Content[0].Content[1], "!!str ns"},
		"sort key":         {get(table, "KeySchema").Content[1].Content[1], "!!str k"},
		"ttl attribute":    {get(table, "TimeToLiveSpecification", "AttributeName"), "!!str expires"},
		"ttl on":           {get(table, "TimeToLiveSpecification", "Enabled"), "!!bool true"},
		"s3 rule bucket":   {get(res, "TrailObjectCreatedRule", "Properties", "EventPattern", "detail", "bucket", "name").Content[0], "!Ref TrailBucket"},
		"s3 rule event":    {get(res, "TrailObjectCreatedRule", "Properties", "EventPattern", "detail-type").Content[0], "!!str Object Created"},
		"cloudtrail rule":  {get(res, "CloudTrailEventsRule", "Properties", "EventPattern", "detail-type").Content[0], "!!str AWS API Call via CloudTrail"},
		"alert topic env":  {get(fn, "Environment", "Variables", lambda.EnvTopic), "!If "},
		"function role":    {get(fn, "Role"), "!GetAtt FunctionRole.Arn"},
		"canaries env":     {get(fn, "Environment", "Variables", lambda.EnvCanaries), "!Ref Canaries"},
		"canary rule keys": {get(res, "CanaryEventsRule", "Properties", "EventPattern", "detail", "userIdentity", "accessKeyId"), "!Ref CanaryKeyIds"},
		"canary schedule":  {get(res, "CanaryCheckSchedule", "Properties", "ScheduleExpression"), "!!str rate(5 minutes)"},
		"topic encryption": {get(res, "AlertTopic", "Properties", "KmsMasterKeyId"), "!!str alias/aws/sns"},
	}
	for name, c := range checks {
		if got := scalar(c.node); got != c.want {
			t.Errorf("%s = %q; want %q", name, got, c.want)
		}
	}
}

// TestTemplateRoleIsLeastPrivilege pins the role's actions: each is one the
// function calls, none is a wildcard, and each names its resource.
func TestTemplateRoleIsLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)
	stmts := get(tpl, "Resources", "FunctionRole", "Properties", "Policies").Content[0]
	var actions []string
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode && get(n, "Effect") != nil {
			if get(n, "Effect").Value != "Allow" || get(n, "Resource") == nil {
				t.Errorf("statement %s: want Effect Allow with a Resource", scalar(get(n, "Sid")))
			}
			if r := get(n, "Resource"); r.Kind == yaml.ScalarNode && r.Tag == "!!str" && strings.Contains(r.Value, "*") && r.Value != "*" {
				t.Errorf("statement %s: wildcard resource %q", scalar(get(n, "Sid")), r.Value)
			} else if r.Value == "*" {
				t.Errorf("statement %s: resource *", scalar(get(n, "Sid")))
			}
			a := get(n, "Action")
			if a.Kind == yaml.ScalarNode {
				actions = append(actions, a.Value)
			}
			for _, c := range a.Content {
				actions = append(actions, c.Value)
			}
			return
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(get(stmts, "PolicyDocument", "Statement"))
	slices.Sort(actions)
	want := []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "iam:GetAccessKeyLastUsed", "kms:Decrypt", "logs:CreateLogStream",
		"logs:PutLogEvents", "s3:GetObject", "sns:Publish", "sqs:SendMessage"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("role actions (-want +got):\n%s", diff)
	}
	s3Res := scalar(get(get(stmts, "PolicyDocument", "Statement").Content[0], "Resource"))
	if !strings.Contains(s3Res, "${TrailBucket}/AWSLogs/*") {
		t.Errorf("s3:GetObject resource = %s; want the trail bucket's AWSLogs/ only", s3Res)
	}
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(\.[A-Za-z]+)?\}`)

// TestTemplateReferencesResolve finds every !Ref, !GetAtt, ${...} in !Sub
// and Condition, and checks it names a parameter, resource, condition or
// pseudo parameter: the mistakes cfn-lint would catch first.
func TestTemplateReferencesResolve(t *testing.T) {
	tpl := loadTemplate(t)
	defined := map[string]bool{}
	for _, sec := range []string{"Parameters", "Resources"} {
		for _, k := range keys(get(tpl, sec)) {
			defined[k] = true
		}
	}
	conditions := map[string]bool{}
	for _, k := range keys(get(tpl, "Conditions")) {
		conditions[k] = true
	}
	check := func(name, how string) {
		if !defined[name] && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("%s %s names nothing in the template", how, name)
		}
	}
	var refs int
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		switch n.Tag {
		case "!Ref":
			check(n.Value, "!Ref")
			refs++
		case "!GetAtt":
			check(strings.SplitN(n.Value, ".", 2)[0], "!GetAtt")
			refs++
		case "!Sub":
			for _, m := range subRef.FindAllStringSubmatch(n.Value, -1) {
				check(m[1], "!Sub")
				refs++
			}
		case "!If":
			if !conditions[n.Content[0].Value] {
				t.Errorf("!If names unknown condition %s", n.Content[0].Value)
			}
		}
		if c := get(n, "Condition"); n.Kind == yaml.MappingNode && c != nil && c.Kind == yaml.ScalarNode && !conditions[c.Value] {
			t.Errorf("Condition %s is not declared", c.Value)
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(tpl)
	if refs < 20 {
		t.Errorf("found %d references; the walk is not seeing the template", refs)
	}
}
