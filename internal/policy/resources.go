package policy

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

// The record field helpers are detect's: one reading of CloudTrail's JSON.
var (
	object = detect.Object
	str    = detect.Str
)

// where is the account, region and partition a call was made in: what
// fills ${Account}, ${Region} and ${Partition} in an ARN template.
type where struct{ partition, region, account string }

func whereOf(e cloudtrail.Event) where {
	w := where{partition: "aws", region: e.AWSRegion, account: e.RecipientAccountID}
	if w.account == "" {
		w.account = e.UserIdentity.AccountID
	}
	switch {
	case strings.HasPrefix(w.region, "cn-"):
		w.partition = "aws-cn"
	case strings.HasPrefix(w.region, "us-gov-"):
		w.partition = "aws-us-gov"
	}
	return w
}

// variable is one ${Name} of an ARN template.
var variable = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// paramNames are the request parameters a template variable is read from
// when the parameter is not simply the variable's name in lower camel case.
var paramNames = map[string][]string{
	"ObjectName":                       {"key"},
	"RoleNameWithPath":                 {"roleName"},
	"UserNameWithPath":                 {"userName"},
	"GroupNameWithPath":                {"groupName"},
	"PolicyNameWithPath":               {"policyName"},
	"InstanceProfileNameWithPath":      {"instanceProfileName"},
	"KeyPairName":                      {"keyName"},
	"SecurityGroupId":                  {"groupId"},
	"ParameterNameWithoutLeadingSlash": {"name"},
	"QueueName":                        {"queueUrl", "queueName"},
	"TopicName":                        {"topicArn", "name"},
	"SecretId":                         {"secretId", "name"},
	"FunctionName":                     {"functionName"},
	"RepositoryName":                   {"repositoryName"},
	"ClusterName":                      {"clusterName", "cluster"},
	"DbInstanceName":                   {"dBInstanceIdentifier"},
	"StateMachineName":                 {"name"},
	"LogGroupName":                     {"logGroupName"},
	"LogStreamName":                    {"logStreamName"},
	"TaskDefinitionFamilyName":         {"family"},
}

// pathVariables may hold slashes; every other variable stops at ':' and '/'.
func pathVariable(name string) bool {
	return strings.HasSuffix(name, "WithPath") || name == "ObjectName" || strings.HasSuffix(name, "WithoutLeadingSlash") || strings.HasSuffix(name, "Path")
}

// resolver derives the resource ARNs of calls; it caches each ARN
// template's pattern.
type resolver struct {
	data     *iamdata.Data
	patterns map[string]*regexp.Regexp
	unnamed  map[string]bool // ARNs built with "*" for an identifier nothing named
	parsed   map[string][]segment
	memos    map[string][]need
}

// segment is a piece of an ARN template: literal text, or a variable.
type segment struct{ text, variable string }

// segments splits a template once.
func (r *resolver) segments(tmpl string) []segment {
	if s, ok := r.parsed[tmpl]; ok {
		return s
	}
	var out []segment
	last := 0
	for _, m := range variable.FindAllStringSubmatchIndex(tmpl, -1) {
		if m[0] > last {
			out = append(out, segment{text: tmpl[last:m[0]]})
		}
		out = append(out, segment{variable: tmpl[m[2]:m[3]]})
		last = m[1]
	}
	if last < len(tmpl) {
		out = append(out, segment{text: tmpl[last:]})
	}
	r.parsed[tmpl] = out
	return out
}

func newResolver(d *iamdata.Data) *resolver {
	return &resolver{data: d, patterns: map[string]*regexp.Regexp{}, unnamed: map[string]bool{}, parsed: map[string][]segment{}, memos: map[string][]need{}}
}

// pattern matches the ARNs a template describes.
func (r *resolver) pattern(tmpl string) *regexp.Regexp {
	if p, ok := r.patterns[tmpl]; ok {
		return p
	}
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range variable.FindAllStringSubmatchIndex(tmpl, -1) {
		b.WriteString(regexp.QuoteMeta(tmpl[last:m[0]]))
		switch name := tmpl[m[2]:m[3]]; {
		case name == "Partition" || name == "Region" || name == "Account":
			b.WriteString(`[a-z0-9-]*`)
		case pathVariable(name):
			b.WriteString(`.+`)
		default:
			b.WriteString(`[^:/]+`)
		}
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(tmpl[last:]))
	b.WriteString("$")
	p := regexp.MustCompile(b.String())
	r.patterns[tmpl] = p
	return p
}

// alsoAuthorized are resource types the data marks optional that IAM
// checks on every call of the action: RunInstances always creates a volume.
var alsoAuthorized = map[string]map[string]bool{"ec2:RunInstances": {"volume": true}}

// resources are the ARNs action (of prefix) was called on in e: the
// event's own ARNs (its resources list, ARNs in the request) that fit one
// of the action's resource types, else ARNs built from the type's template
// and the request's parameters. A required type nothing names is kept
// with "*" for what is unknown; an action without resource types takes "*".
func (r *resolver) resources(prefix string, a *iamdata.Action, e cloudtrail.Event, req map[string]any) []string {
	if len(a.Resources) == 0 {
		return []string{"*"}
	}
	w := whereOf(e)
	arns := eventARNs(e, req)
	var out []string
	best, bestKnown := "", 0
	for _, rt := range a.Resources {
		tmpl := r.data.Template(prefix, rt.Name)
		if tmpl == "" {
			continue
		}
		p := r.pattern(tmpl)
		found := false
		for _, arn := range arns {
			if p.MatchString(arn) {
				out, found = append(out, arn), true
			}
		}
		if found {
			continue
		}
		built, known, complete := fill(r.segments(tmpl), w, req)
		switch {
		case complete:
			out = append(out, built...)
		case rt.Required || alsoAuthorized[prefix+":"+a.Name][rt.Name]:
			out = append(out, built...)
			for _, b := range built {
				r.unnamed[b] = r.unnamed[b] || known == 0
			}
		case known > bestKnown && len(built) > 0:
			best, bestKnown = built[0], known
		}
	}
	if len(out) == 0 && best != "" {
		out = []string{best} // partly named: bucket/* for the objects of a named bucket
	}
	if len(out) == 0 {
		return []string{"*"}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// eventARNs are the ARNs a record names: its resources list and the ARN
// values of its request parameters (two levels deep).
func eventARNs(e cloudtrail.Event, req map[string]any) []string {
	var out []string
	for _, res := range e.Resources {
		if strings.HasPrefix(res.ARN, "arn:") {
			out = append(out, res.ARN)
		}
	}
	walk(req, 2, func(_ string, v string) {
		if strings.HasPrefix(v, "arn:") {
			out = append(out, v)
		}
	})
	return out
}

// walk calls f with every string value under m (key, value), depth levels
// of objects and lists deep.
func walk(m map[string]any, depth int, f func(key, v string)) {
	var visit func(key string, v any, depth int)
	visit = func(key string, v any, depth int) {
		switch x := v.(type) {
		case string:
			f(key, x)
		case map[string]any:
			if depth > 0 {
				for k, y := range x {
					visit(k, y, depth-1)
				}
			}
		case []any:
			if depth > 0 {
				for _, y := range x {
					visit(key, y, depth-1)
				}
			}
		}
	}
	for k, v := range m {
		visit(k, v, depth)
	}
}

// fill builds ARNs from a template: ${Partition}, ${Region}, ${Account}
// from where the call was made, every other variable from the request's
// parameters ("*" when the request does not say). known counts the
// variables the request filled; complete says none was left unknown.
func fill(segs []segment, w where, req map[string]any) (arns []string, known int, complete bool) {
	arns = []string{""}
	complete = true
	for _, sg := range segs {
		var values []string
		switch sg.variable {
		case "":
			values = []string{sg.text}
		case "Partition":
			values = []string{w.partition}
		case "Region":
			values = []string{w.region}
		case "Account":
			values = []string{w.account}
		default:
			values = paramValues(sg.variable, req)
			if len(values) == 0 {
				values, complete = []string{"*"}, false
			} else {
				known++
			}
		}
		if len(values) == 1 {
			for i := range arns {
				arns[i] += values[0]
			}
			continue
		}
		next := make([]string, 0, len(arns)*len(values))
		for _, a := range arns {
			for _, v := range values {
				next = append(next, a+v)
			}
		}
		arns = next
	}
	return arns, known, complete
}

// paramValues reads a template variable's value(s) from the request: the
// parameter named as the variable (or in paramNames), as a name or as the
// last part of an ARN or URL the parameter holds.
func paramValues(name string, req map[string]any) []string {
	keys := paramNames[name]
	if keys == nil {
		keys = []string{lowerFirst(name)}
	}
	var out []string
	for _, k := range keys {
		walk(req, 3, func(key, v string) {
			if key == k && v != "" {
				out = append(out, paramValue(name, v))
			}
		})
		if len(out) > 0 {
			break
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// paramValue is a parameter's value as the template wants it.
func paramValue(name, v string) string {
	switch {
	case name == "ParameterNameWithoutLeadingSlash":
		return strings.TrimPrefix(v, "/")
	case name == "QueueName":
		return v[strings.LastIndex(v, "/")+1:]
	case name == "SecretId" && !strings.HasPrefix(v, "arn:"):
		return v + "-??????" // the six random characters Secrets Manager adds
	case strings.HasPrefix(v, "arn:"):
		// a name parameter given as an ARN (functionName, topicArn): its name part
		fields := strings.SplitN(v, ":", 7)
		if len(fields) >= 7 {
			rest := fields[6]
			if name == "FunctionName" {
				rest, _, _ = strings.Cut(rest, ":")
			}
			return rest[strings.LastIndexAny(rest, "/:")+1:]
		}
		return v
	}
	return v
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// roleKey says whether a request parameter's name is one that passes a
// role to the service (role, roleArn, executionRoleArn, serviceRole, ...).
func roleKey(k string) bool { return strings.Contains(strings.ToLower(k), "role") }

// roleARN is the shape of an IAM role's ARN.
var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+`)

// passedRoles are the roles a call hands to a service, which needs
// iam:PassRole on each: role ARNs in role parameters (lambda CreateFunction's
// role, ecs RegisterTaskDefinition's taskRoleArn and executionRoleArn,
// cloudformation's roleARN, ...), the instance profile's role of EC2 calls
// (not named in the event: every role of the account), the role IAM adds to
// an instance profile. STS's and IAM's own role parameters pass nothing.
func passedRoles(prefix, name string, e cloudtrail.Event, req map[string]any) []string {
	w := whereOf(e)
	switch {
	case prefix == "sts":
		return nil
	case prefix == "iam":
		if role := str(req, "roleName"); name == "AddRoleToInstanceProfile" && role != "" {
			return []string{"arn:" + w.partition + ":iam::" + w.account + ":role/" + role}
		}
		return nil
	case prefix == "ec2" && req["iamInstanceProfile"] != nil:
		return []string{"arn:" + w.partition + ":iam::" + w.account + ":role/*"}
	}
	var out []string
	walk(req, 3, func(k, v string) {
		if roleKey(k) && roleARN.MatchString(v) {
			out = append(out, v)
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// memoSize bounds the memo of what calls need: repeated calls (the same
// request on the same resources) are mapped once.
const memoSize = 1 << 12

// memo returns what e needs, from the memo when the same call (source,
// name, identity type, region, account, request and resources) was
// mapped before.
func (r *resolver) memo(e cloudtrail.Event, needs func(cloudtrail.Event) []need) []need {
	var b strings.Builder
	b.Grow(len(e.EventSource) + len(e.EventName) + len(e.RequestParameters) + 64)
	for _, s := range []string{e.EventSource, e.EventName, e.EventType, e.UserIdentity.Type, e.AWSRegion, e.RecipientAccountID, e.UserIdentity.AccountID} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	b.Write(e.RequestParameters)
	for _, res := range e.Resources {
		b.WriteByte(0)
		b.WriteString(res.ARN)
	}
	key := b.String()
	if n, ok := r.memos[key]; ok {
		return n
	}
	n := needs(e)
	if len(r.memos) >= memoSize {
		clear(r.memos)
	}
	r.memos[key] = n
	return n
}
