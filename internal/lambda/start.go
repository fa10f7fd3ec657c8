package lambda

import (
	"fmt"
	"os"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
)

// Environment variables deploy/template.yaml sets on the function.
const (
	EnvTable   = "KEYWARDEN_STATE_TABLE" // DynamoDB table of state and markers
	EnvTopic   = "KEYWARDEN_ALERT_TOPIC" // SNS topic ARN alerts are published to
	EnvFailOn  = "KEYWARDEN_FAIL_ON"     // lowest severity that is published (optional)
	envRuntime = "AWS_LAMBDA_RUNTIME_API"
)

// Config is what the function reads from its environment.
type Config struct {
	Table  string
	Topic  string
	FailOn string
}

// ConfigFromEnv reads the function's settings; the table is required.
func ConfigFromEnv() (Config, error) {
	c := Config{Table: os.Getenv(EnvTable), Topic: os.Getenv(EnvTopic), FailOn: os.Getenv(EnvFailOn)}
	if c.Table == "" {
		return Config{}, fmt.Errorf("lambda config: %s is not set (the dynamodb state table)", EnvTable)
	}
	return c, nil
}

// Running reports whether this process is a Lambda function's runtime:
// the Lambda service sets AWS_LAMBDA_RUNTIME_API for custom runtimes.
func Running() bool { return os.Getenv(envRuntime) != "" }

// Start serves invocations with Handler until the runtime stops the
// process; it does not return.
func Start(p Processor, objects cloudtrail.ObjectStore, store detect.Store) {
	awslambda.Start(Handler(p, objects, store))
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
