package audit

// Trail is one CloudTrail trail as DescribeTrails (with shadow trails, so
// multi-region trails homed elsewhere are listed too), GetTrailStatus and
// GetEventSelectors describe it.
type Trail struct {
	Name         string
	ARN          string
	HomeRegion   string
	MultiRegion  bool
	Organization bool
	Logging      Tri // GetTrailStatus IsLogging; Unknown when the status could not be read
	// LogFileValidation and KMSKeyID are DescribeTrails' own fields:
	// digest files are written, and the KMS key encrypting the log files
	// ("" when they are encrypted with S3's own keys only).
	LogFileValidation bool
	KMSKeyID          string
	// LogGroupARN is the CloudWatch Logs log group the trail delivers to,
	// "" when it delivers to S3 only.
	LogGroupARN string
	// Bucket is the S3 bucket the trail delivers its log files to.
	Bucket string
	// SelectorsKnown says whether GetEventSelectors answered; a trail with
	// no selectors at all logs every management event, so empty lists only
	// mean "all" when SelectorsKnown is true.
	SelectorsKnown    bool
	EventSelectors    []EventSelector
	AdvancedSelectors []AdvancedSelector
	// Tags are the trail's tags (cloudtrail:ListTags); TagsRead is false
	// when they could not be read.
	TagsRead bool
	Tags     map[string]string
}

// EventSelector is a classic CloudTrail event selector, reduced to what
// decides management- and data-event coverage.
type EventSelector struct {
	ReadWriteType                 string // "All", "ReadOnly" or "WriteOnly"
	IncludeManagementEvents       bool
	ExcludeManagementEventSources []string
	DataResources                 []DataResource
}

// DataResource is one data-event resource of a classic selector: a type
// ("AWS::S3::Object") and the ARNs (or ARN prefixes) it logs.
type DataResource struct {
	Type   string
	Values []string
}

// AdvancedSelector is an advanced event selector: its field selectors are
// ANDed.
type AdvancedSelector struct {
	Name   string
	Fields []FieldSelector
}

// FieldSelector is one condition of an advanced event selector.
type FieldSelector struct {
	Field         string
	Equals        []string
	NotEquals     []string
	StartsWith    []string
	NotStartsWith []string
	EndsWith      []string
	NotEndsWith   []string
}

// ManagedPolicy is one customer managed policy and its default version's
// document, as IAM returns it (URL-encoded or not).
type ManagedPolicy struct {
	Name        string
	ARN         string
	Attachments int // users, groups and roles it is attached to
	Document    string
}

// Group is one IAM group and the ARNs of the managed policies attached to
// it.
type Group struct {
	Name     string
	Attached []string
}

// Role is one IAM role, with what its trust policy says about other
// accounts.
type Role struct {
	Name string
	ARN  string
	// TrustKnown is false when the trust policy could not be read or parsed.
	TrustKnown bool
	// ForeignNoExternalID lists the principals of other accounts ("*" for
	// anyone) the trust policy lets assume the role without an sts:ExternalId
	// condition (iampolicy.CrossAccountWithoutExternalID).
	ForeignNoExternalID []string
	// Attached lists the ARNs of the managed policies attached to the role.
	Attached []string
	// Tags are the role's tags, read with its trust policy.
	Tags map[string]string
}

// Instance is one EC2 instance that is not terminated.
type Instance struct {
	ID     string
	Region string
	State  string // "running", "stopped", ...
	Name   string // its Name tag, for people
	// Profile is the ARN of its IAM instance profile, "" when it has none.
	Profile string
}

// LogGroup is a CloudWatch Logs log group a trail delivers to, with what
// the monitoring checks (CIS section 4) judge: its metric filters, the
// alarms on their metrics, and who those alarms notify.
type LogGroup struct {
	ARN    string
	Name   string
	Region string
	// Unread, when not empty, says why the group's filters and alarms
	// are unknown (a denied read, a group in another account).
	Unread  string
	Filters []MetricFilter
	// Alarms are the metric alarms on the filters' metrics.
	Alarms []Alarm
	// Subscribers counts, by SNS topic ARN among the alarms' actions, the
	// confirmed subscriptions; a topic missing from it was not read.
	Subscribers map[string]int
}

// MetricFilter is one metric filter of a log group.
type MetricFilter struct {
	Name    string
	Pattern string
	Metrics []Metric // what a match counts on
}

// Metric names a CloudWatch metric.
type Metric struct{ Namespace, Name string }

// Alarm is a CloudWatch metric alarm: the metric it watches and what it
// does when it fires (SNS topics and other actions, by ARN).
type Alarm struct {
	Name    string
	Metric  Metric
	Actions []string
	Enabled bool // ActionsEnabled
}

// Bucket is what S3 says about a trail's bucket: who may read it and
// whether access to it is logged. A *Read flag is false when its read
// failed; the facts it would have given are unknown.
type Bucket struct {
	Name string
	// Unread, when not empty, says why nothing of the bucket is known.
	Unread string
	// PublicGrants are the ACL's grants to everyone (AllUsers) or to any
	// AWS account (AuthenticatedUsers), "AllUsers:READ".
	ACLRead      bool
	PublicGrants []string
	// Policy is the bucket policy document, "" when it has none.
	PolicyRead bool
	Policy     string
	// Block is the bucket's S3 Block Public Access configuration (all
	// false when it has none).
	BlockRead bool
	Block     PublicAccessBlock
	// Logging is whether server access logging is on; LogTarget the
	// bucket it logs to.
	Logging   Tri
	LogTarget string
}

// PublicAccessBlock is S3 Block Public Access's four settings.
type PublicAccessBlock struct {
	BlockPublicACLs, IgnorePublicACLs, BlockPublicPolicy, RestrictPublicBuckets bool
}
