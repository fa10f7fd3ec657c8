package policy

import (
	"regexp"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

// need is one IAM action a call required, on the resources it touched.
type need struct {
	action    string   // "s3:GetObject"
	resources []string // ARN patterns; ["*"] when the action takes none
	neededBy  string   // the call's own action when this one is a second action
	unmapped  bool     // the data does not know the action: a guess from the event name
}

// namespaces are the eventSource namespaces that differ from the IAM
// service prefix. Every other namespace is its own prefix when the data
// knows it (lambda.amazonaws.com -> lambda).
var namespaces = map[string]string{
	"monitoring":           "cloudwatch",
	"email":                "ses",
	"tagging":              "tag",
	"oidc":                 "sso-oauth",
	"metering-marketplace": "aws-marketplace",
	"api.ecr":              "ecr",
	"api.mediatailor":      "mediatailor",
	"models.lex":           "lex",
	"runtime.lex":          "lex",
	"runtime.sagemaker":    "sagemaker",
	"data.iot":             "iot",
	"streams.dynamodb":     "dynamodb",
	"elasticfilesystem":    "elasticfilesystem",
	"sso-directory":        "sso-directory",
	"execute-api":          "execute-api",
	"s3-control":           "s3",
}

// renamed are the calls whose action has another name than the event:
// "prefix:EventName" -> the actions it needs. S3's are the most common
// (ListObjectsV2 is authorized as s3:ListBucket).
var renamed = map[string][]string{
	"s3:ListObjects":                              {"s3:ListBucket"},
	"s3:ListObjectsV2":                            {"s3:ListBucket"},
	"s3:ListObjectVersions":                       {"s3:ListBucketVersions"},
	"s3:HeadBucket":                               {"s3:ListBucket"},
	"s3:HeadObject":                               {"s3:GetObject"},
	"s3:SelectObjectContent":                      {"s3:GetObject"},
	"s3:ListBuckets":                              {"s3:ListAllMyBuckets"},
	"s3:DeleteObjects":                            {"s3:DeleteObject"},
	"s3:CreateMultipartUpload":                    {"s3:PutObject"},
	"s3:UploadPart":                               {"s3:PutObject"},
	"s3:CompleteMultipartUpload":                  {"s3:PutObject"},
	"s3:CopyObject":                               {"s3:PutObject"},
	"s3:UploadPartCopy":                           {"s3:PutObject"},
	"s3:ListParts":                                {"s3:ListMultipartUploadParts"},
	"s3:ListMultipartUploads":                     {"s3:ListBucketMultipartUploads"},
	"s3:GetBucketEncryption":                      {"s3:GetEncryptionConfiguration"},
	"s3:PutBucketEncryption":                      {"s3:PutEncryptionConfiguration"},
	"s3:DeleteBucketEncryption":                   {"s3:PutEncryptionConfiguration"},
	"s3:GetBucketLifecycle":                       {"s3:GetLifecycleConfiguration"},
	"s3:GetBucketLifecycleConfiguration":          {"s3:GetLifecycleConfiguration"},
	"s3:PutBucketLifecycle":                       {"s3:PutLifecycleConfiguration"},
	"s3:PutBucketLifecycleConfiguration":          {"s3:PutLifecycleConfiguration"},
	"s3:DeleteBucketLifecycle":                    {"s3:PutLifecycleConfiguration"},
	"s3:GetBucketReplication":                     {"s3:GetReplicationConfiguration"},
	"s3:PutBucketReplication":                     {"s3:PutReplicationConfiguration"},
	"s3:DeleteBucketReplication":                  {"s3:PutReplicationConfiguration"},
	"s3:GetBucketCors":                            {"s3:GetBucketCORS"},
	"s3:PutBucketCors":                            {"s3:PutBucketCORS"},
	"s3:DeleteBucketCors":                         {"s3:PutBucketCORS"},
	"s3:DeleteBucketTagging":                      {"s3:PutBucketTagging"},
	"s3:GetBucketNotificationConfiguration":       {"s3:GetBucketNotification"},
	"s3:PutBucketNotificationConfiguration":       {"s3:PutBucketNotification"},
	"s3:GetBucketAnalyticsConfiguration":          {"s3:GetAnalyticsConfiguration"},
	"s3:GetBucketInventoryConfiguration":          {"s3:GetInventoryConfiguration"},
	"s3:GetBucketMetricsConfiguration":            {"s3:GetMetricsConfiguration"},
	"s3:GetBucketIntelligentTieringConfiguration": {"s3:GetIntelligentTieringConfiguration"},
	"s3:GetObjectLockConfiguration":               {"s3:GetBucketObjectLockConfiguration"},
	"s3:PutObjectLockConfiguration":               {"s3:PutBucketObjectLockConfiguration"},
	"s3:GetBucketAccelerateConfiguration":         {"s3:GetAccelerateConfiguration"},
	"s3:PutBucketAccelerateConfiguration":         {"s3:PutAccelerateConfiguration"},
	"s3:DeletePublicAccessBlock":                  {"s3:PutBucketPublicAccessBlock"},
	"s3:GetPublicAccessBlock":                     {"s3:GetBucketPublicAccessBlock"},
	"s3:PutPublicAccessBlock":                     {"s3:PutBucketPublicAccessBlock"},
	"s3:DeleteBucketOwnershipControls":            {"s3:PutBucketOwnershipControls"},
	"lambda:Invoke":                               {"lambda:InvokeFunction"},
	"sqs:SendMessageBatch":                        {"sqs:SendMessage"},
	"sqs:DeleteMessageBatch":                      {"sqs:DeleteMessage"},
	"sqs:ChangeMessageVisibilityBatch":            {"sqs:ChangeMessageVisibility"},
	"kms:ReEncrypt":                               {"kms:ReEncryptFrom", "kms:ReEncryptTo"},
}

// free are the calls no policy needs to allow.
var free = map[string]bool{
	"sts:GetCallerIdentity": true, // allowed even under an explicit deny
}

// dated is an API-version suffix some services put on event names:
// Lambda's CreateFunction20150331 and UpdateFunctionConfiguration20150331v2,
// CloudFront's GetDistribution2020_05_31.
var dated = regexp.MustCompile(`(20[0-9]{6}|20[0-9]{2}_[0-9]{2}_[0-9]{2})(v[0-9]+)?$`)

// deniedCodes are the errorCodes of a call IAM refused: the call never ran,
// so it is evidence of a want, never of a need.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"Client.UnauthorizedOperation": true, "UnauthorizedAccess": true, "AuthorizationError": true,
	"AuthorizationErrorException": true, "NotAuthorized": true, "AccessDeniedError": true,
	"UnauthorizedException": true, "Forbidden": true,
}

// Denied reports whether a call was refused by IAM.
func Denied(e cloudtrail.Event) bool { return deniedCodes[e.ErrorCode] }

// prefixOf is the IAM prefix of an eventSource, and whether the data knows it.
func prefixOf(d *iamdata.Data, source string) (string, bool) {
	ns := strings.TrimSuffix(source, ".amazonaws.com")
	if p, ok := namespaces[ns]; ok {
		ns = p
	}
	return ns, d.HasService(ns)
}

// actionsOf are the actions a call is authorized as (nil: none needed),
// and whether the data knows them.
func actionsOf(d *iamdata.Data, e cloudtrail.Event, req map[string]any) (actions []string, known bool) {
	if e.UserIdentity.Type == "AWSService" || e.EventType == "AwsConsoleSignIn" || e.EventSource == "signin.amazonaws.com" {
		return nil, true // an AWS service acting as itself; a console sign-in
	}
	prefix, ok := prefixOf(d, e.EventSource)
	name := e.EventName
	if ok {
		if _, found := d.Action(prefix, name); !found {
			if stripped := dated.ReplaceAllString(name, ""); stripped != name {
				name = stripped
			}
		}
	}
	key := prefix + ":" + name
	if free[key] {
		return nil, true
	}
	if r, ok := renamed[key]; ok {
		return s3Versioned(req, r), true
	}
	if prefix == "apigateway" {
		if verb := restVerb(name); verb != "" {
			return []string{"apigateway:" + verb}, true
		}
	}
	a, found := d.Action(prefix, name)
	if !found {
		return []string{key}, false
	}
	return s3Versioned(req, []string{prefix + ":" + a.Name}), true
}

// versioned are the object actions whose call on one version (a versionId
// in the request) is authorized as another action.
var versioned = map[string]string{
	"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion",
	"s3:GetObjectAcl": "s3:GetObjectVersionAcl", "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
	"s3:GetObjectTagging": "s3:GetObjectVersionTagging", "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
	"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}

// s3Versioned turns an object action on a version into its Version action.
func s3Versioned(req map[string]any, actions []string) []string {
	if len(actions) != 1 || versioned[actions[0]] == "" || str(req, "versionId") == "" {
		return actions
	}
	return []string{versioned[actions[0]]}
}

// restVerb is the HTTP method API Gateway's management actions are named
// after (apigateway:POST for CreateRestApi).
func restVerb(name string) string {
	for _, p := range []struct{ prefix, verb string }{
		{"Get", "GET"}, {"List", "GET"}, {"Create", "POST"}, {"Import", "PUT"}, {"Put", "PUT"},
		{"Update", "PATCH"}, {"Delete", "DELETE"}, {"Tag", "PUT"}, {"Untag", "DELETE"},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.verb
		}
	}
	return ""
}
