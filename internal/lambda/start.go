package lambda

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/watch"
)

// Environment variables deploy/template.yaml sets on the function.
const (
	EnvTable  = "KEYWARDEN_STATE_TABLE" // DynamoDB table of state and markers
	EnvTopic  = "KEYWARDEN_ALERT_TOPIC" // SNS topic ARN alerts are published to
	EnvFailOn = "KEYWARDEN_FAIL_ON"     // lowest severity that is published (optional)
	// EnvCanaries is the canaries, a JSON array of canary records (name,
	// account, user, arn, access_key_id, placements), as 'keywarden lambda
	// --canaries' prints them (optional).
	EnvCanaries = "KEYWARDEN_CANARIES"
	envRuntime  = "AWS_LAMBDA_RUNTIME_API"
)

// Config is what the function reads from its environment.
type Config struct {
	Table  string
	Topic  string         // "": alerts go to the function's log (CloudWatch Logs) as JSON Lines
	FailOn severity.Level // alerts below it are not published; 0: all are
	// Canaries are the canary keys the function watches and checks.
	Canaries []canary.Canary
}

// ConfigFromEnv reads the function's settings from its environment
// (getenv); the table is required.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Table: getenv(EnvTable), Topic: getenv(EnvTopic)}
	if c.Table == "" {
		return Config{}, fmt.Errorf("lambda config: %s is not set (the dynamodb state table)", EnvTable)
	}
	if v := getenv(EnvFailOn); v != "" {
		lvl, err := severity.Parse(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvFailOn, err)
		}
		c.FailOn = lvl
	}
	if v := getenv(EnvCanaries); v != "" {
		if err := json.Unmarshal([]byte(v), &c.Canaries); err != nil {
			return Config{}, fmt.Errorf("%s: want a JSON array of canaries: %w", EnvCanaries, err)
		}
		for _, cn := range c.Canaries {
			if !keyID.MatchString(cn.AccessKeyID) {
				return Config{}, fmt.Errorf("%s: canary %q: access_key_id %q is not an access key id (AKIA and 16 more)", EnvCanaries, cn.Name, cn.AccessKeyID)
			}
		}
	}
	return c, nil
}

// Sink is the --sink spec of the function's alerts: the topic, else its log.
func (c Config) Sink() string {
	if c.Topic == "" {
		return "jsonl"
	}
	return "sns:" + c.Topic
}

// Expiring is a store whose namespaces can be given a lifetime: the
// function's DynamoDB table (watchaws.DynamoStore).
type Expiring interface {
	SetTTL(namespace string, d time.Duration)
}

// Expire gives what the function only ever adds a lifetime, so its table
// does not grow for ever: dedup marks a week past their window, and the
// markers of processed objects and events. Baselines and burst windows are
// kept.
func Expire(store Expiring) {
	store.SetTTL(watch.DedupNamespace, watch.DefaultDedupWindow+watch.DedupKeep)
	store.SetTTL(ObjectsNamespace, MarkerKeep)
	store.SetTTL(EventsNamespace, MarkerKeep)
}

// Running reports whether this process is a Lambda function's runtime:
// the Lambda service sets AWS_LAMBDA_RUNTIME_API for custom runtimes.
func Running() bool { return os.Getenv(envRuntime) != "" }

// keyID is the shape of a long-term access key id.
var keyID = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)

// Start serves invocations with CanaryHandler until the runtime stops the
// process; it does not return.
func Start(p *watch.Pipeline, objects cloudtrail.ObjectStore, store detect.Store, canaries *watch.CanaryPoller) {
	awslambda.Start(CanaryHandler(p, objects, store, canaries))
}

// DeployHelp is what `keywarden lambda` prints outside Lambda.
const DeployHelp = `keywarden lambda runs keywarden watch as an AWS Lambda function; it serves
invocations only inside Lambda (AWS_LAMBDA_RUNTIME_API set).

To deploy it with the SAM template in deploy/:

  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o deploy/build/bootstrap ./cmd/keywarden
  sam deploy --template-file deploy/template.yaml --stack-name keywarden-watch \
    --capabilities CAPABILITY_IAM --resolve-s3 \
    --parameter-overrides TrailBucket=YOUR-CLOUDTRAIL-BUCKET

See deploy/README.md for the trail bucket's EventBridge setting and the alert topic.
`
